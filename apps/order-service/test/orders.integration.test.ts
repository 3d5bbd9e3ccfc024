import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentFailed, PaymentSucceeded } from '@eventflow/events';
import { createTokenVerifier, type HttpServer } from '@eventflow/http';
import { PoisonMessageError, createLogger } from '@eventflow/platform';
import { createTestTokens, eventMetadata, scratchDatabase } from '@eventflow/testing';
import { buildApp } from '../src/app.js';
import { Orders } from '../src/application/orders.js';
import { createDb, type Db } from '../src/persistence/prisma.js';

// A migrated scratch database on the real PostgreSQL; no Kafka needed at this level.
const database = await scratchDatabase(fileURLToPath(new URL('../prisma/migrations', import.meta.url)));
const db: Db = createDb(database.url);
const orders = new Orders(db, 'order-service');
const tokens = createTestTokens();
const context = { producer: 'order-service', correlationId: 'test' };
let app: HttpServer;

const metadata = (eventType: string, occurredAt = Date.now()) => eventMetadata(eventType, occurredAt, 'billing-service');
const succeeded = (orderId: string, userId: string, amount: number): PaymentSucceeded => ({
  metadata: metadata('PaymentSucceeded'),
  orderId,
  userId,
  amount,
  balanceAfter: 0,
});
const failed = (orderId: string, userId: string, amount: number): PaymentFailed => ({
  metadata: metadata('PaymentFailed'),
  orderId,
  userId,
  amount,
  reason: 'INSUFFICIENT_FUNDS',
});
const outboxFor = (orderId: string) =>
  db.$queryRaw<Array<{ event_type: string; key: string }>>`SELECT event_type, key FROM outbox_events WHERE payload->>'orderId' = ${orderId} ORDER BY id`;

beforeAll(async () => {
  app = await buildApp({
    logger: createLogger('order-test', 'silent'),
    orders,
    verifyToken: await createTokenVerifier(tokens),
    readiness: [],
    bodyLimit: 1_024,
  });
});
afterAll(async () => {
  await app.close();
  await db.$disconnect();
  await database.drop();
});

describe('orders on PostgreSQL', () => {
  it('writes the order and its OrderPlaced, keyed by user, in one go', async () => {
    const userId = randomUUID();
    const { order } = await orders.place(userId, 1_500, context);
    expect(order).toMatchObject({ userId, price: 1_500, status: 'PENDING_PAYMENT' });
    expect(await outboxFor(order.id)).toEqual([{ event_type: 'OrderPlaced', key: userId }]);
  });

  it('returns the same order for a repeated Idempotency-Key, even when the requests race', async () => {
    const userId = randomUUID();
    const results = await Promise.all(Array.from({ length: 5 }, () => orders.place(userId, 700, context, 'checkout-1')));
    expect(new Set(results.map((r) => r.order.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await db.order.count({ where: { userId } })).toBe(1);
  });

  it('settles an order exactly once: later or contradicting outcomes change nothing', async () => {
    const userId = randomUUID();
    const { order } = await orders.place(userId, 300, context);
    expect(await db.$transaction((tx) => orders.settle(tx, succeeded(order.id, userId, 300), { kind: 'succeeded' }, context))).toBe('PAID');
    expect(await db.$transaction((tx) => orders.settle(tx, succeeded(order.id, userId, 300), { kind: 'succeeded' }, context))).toBe('unchanged');
    expect(
      await db.$transaction((tx) => orders.settle(tx, failed(order.id, userId, 300), { kind: 'failed', reason: 'INSUFFICIENT_FUNDS' }, context)),
    ).toBe('unchanged');
    expect((await orders.get(userId, order.id))?.status).toBe('PAID');
    expect((await outboxFor(order.id)).map((r) => r.event_type)).toEqual(['OrderPlaced', 'OrderPaid']);
  });

  it("carries billing's balance after the charge into OrderPaid (schema version 2)", async () => {
    const userId = randomUUID();
    const { order } = await orders.place(userId, 300, context);
    await db.$transaction((tx) => orders.settle(tx, { ...succeeded(order.id, userId, 300), balanceAfter: 4_200 }, { kind: 'succeeded' }, context));
    const [paid] = await db.$queryRaw<Array<{ balance_after: unknown }>>`SELECT payload->'balanceAfter' AS balance_after FROM outbox_events WHERE payload->>'orderId' = ${order.id} AND event_type = 'OrderPaid'`;
    expect(paid?.balance_after).toBe(4_200);
  });

  it('records the failure reason of a refused payment', async () => {
    const userId = randomUUID();
    const { order } = await orders.place(userId, 300, context);
    await db.$transaction((tx) => orders.settle(tx, failed(order.id, userId, 300), { kind: 'failed', reason: 'INSUFFICIENT_FUNDS' }, context));
    expect(await orders.get(userId, order.id)).toMatchObject({ status: 'PAYMENT_FAILED', failureReason: 'INSUFFICIENT_FUNDS' });
    expect((await outboxFor(order.id)).map((r) => r.event_type)).toEqual(['OrderPlaced', 'OrderPaymentFailed']);
  });

  it('treats an outcome for an order it never had as a poison message', async () => {
    await expect(
      db.$transaction((tx) => orders.settle(tx, succeeded(randomUUID(), randomUUID(), 1), { kind: 'succeeded' }, context)),
    ).rejects.toBeInstanceOf(PoisonMessageError);
  });
});

describe('orders HTTP API', () => {
  it('places, reads and lists only the caller’s orders', async () => {
    const user = { id: randomUUID(), email: 'o@example.com' };
    const token = await tokens.tokenFor(user);
    const auth = { authorization: `Bearer ${token}` };
    const created = await app.inject({ method: 'POST', url: '/orders', headers: auth, payload: { price: 250 } });
    expect(created.statusCode).toBe(201);
    const order = created.json<{ id: string }>();
    expect(created.headers['location']).toBe(`/orders/${order.id}`);
    expect((await app.inject({ method: 'GET', url: `/orders/${order.id}`, headers: auth })).json()).toMatchObject({ id: order.id, status: 'PENDING_PAYMENT' });
    expect((await app.inject({ method: 'GET', url: '/orders?limit=10', headers: auth })).json()).toMatchObject({ total: 1, limit: 10, offset: 0 });

    const stranger = { authorization: `Bearer ${await tokens.tokenFor({ id: randomUUID(), email: 's@example.com' })}` };
    expect((await app.inject({ method: 'GET', url: `/orders/${order.id}`, headers: stranger })).statusCode).toBe(404);
  });

  it.each([[{ price: 0 }], [{ price: -5 }], [{ price: 9.99 }], [{ price: '10' }], [{}], [{ price: 1e13 }]])(
    'rejects %j with a 400 problem and stores nothing',
    async (payload) => {
      const user = { id: randomUUID(), email: 'o@example.com' };
      const response = await app.inject({ method: 'POST', url: '/orders', headers: { authorization: `Bearer ${await tokens.tokenFor(user)}` }, payload });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(await db.order.count({ where: { userId: user.id } })).toBe(0);
    },
  );

  it('answers an unknown order with 404 and a malformed id with 400', async () => {
    const auth = { authorization: `Bearer ${await tokens.tokenFor({ id: randomUUID(), email: 'o@example.com' })}` };
    expect((await app.inject({ method: 'GET', url: `/orders/${randomUUID()}`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/orders/123', headers: auth })).statusCode).toBe(400);
  });
});
