import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PaymentFailed, PaymentSucceeded } from '@eventflow/events';
import { createTokenVerifier, requestFingerprint, type HttpServer } from '@eventflow/http';
import { PoisonMessageError, createLogger } from '@eventflow/platform';
import { NotificationListener, createSqlDb } from '@eventflow/platform/db';
import { createTestTokens, eventMetadata, scratchDatabase } from '@eventflow/testing';
import { buildApp } from '../src/app.js';
import { Orders, orderSettledChannel } from '../src/application/orders.js';
import { createDb, type Db } from '../src/persistence/prisma.js';

// A migrated scratch database on the real PostgreSQL; no Kafka needed at this level.
const database = await scratchDatabase(fileURLToPath(new URL('../prisma/migrations', import.meta.url)));
const db: Db = createDb(database.url);
// POST /orders' statement runs on a plain pg pool, as in main.ts.
const placements = createSqlDb({ connectionString: database.url, max: 5, connectionTimeoutMs: 2_000 });
const orders = new Orders(db, placements, 'order-service');
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
  await placements.$disconnect();
  await database.drop();
});

describe('orders on PostgreSQL', () => {
  it('writes the order and its OrderPlaced, keyed by user, in one go', async () => {
    const userId = randomUUID();
    const { order } = await orders.place(userId, 1_500, context);
    expect(order).toMatchObject({ userId, price: 1_500, status: 'PENDING_PAYMENT' });
    expect(await outboxFor(order.id)).toEqual([{ event_type: 'OrderPlaced', key: userId }]);
  });

  it('gives orders time-ordered ids (UUIDv7) and an OrderPlaced whose placedAt is the row\'s created_at', async () => {
    const userId = randomUUID();
    const { order } = await orders.place(userId, 1_200, context);
    expect(order.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [row] = await db.$queryRaw<Array<{ created_at: Date; placed_at: string; price: bigint; status: string }>>`
      SELECT o.created_at, e.payload->>'placedAt' AS placed_at, o.price, o.status FROM orders o JOIN outbox_events e ON e.payload->>'orderId' = o.id::text WHERE o.id = ${order.id}::uuid`;
    expect(row).toMatchObject({ price: 1_200n, status: 'PENDING_PAYMENT' });
    expect(Number(row?.placed_at)).toBe(row?.created_at.getTime());
    expect(order.createdAt).toBe(row?.created_at.toISOString());
    expect(await orders.get(userId, order.id)).toEqual(order);
  });

  it('returns the same order for a repeated Idempotency-Key, even when the requests race', async () => {
    const userId = randomUUID();
    const key = { key: 'checkout-1', fingerprint: 'place 700' };
    const results = await Promise.all(Array.from({ length: 5 }, () => orders.place(userId, 700, context, key)));
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

  it('answers an existing order id in any spelling but the canonical one with 400, never 500', async () => {
    const user = { id: randomUUID(), email: 'o@example.com' };
    const auth = { authorization: `Bearer ${await tokens.tokenFor(user)}` };
    const { order } = await orders.place(user.id, 100, context);
    for (const spelling of [`urn:uuid:${order.id}`, order.id.toUpperCase(), `{${order.id}}`, order.id.replaceAll('-', '')]) {
      const response = await app.inject({ method: 'GET', url: `/orders/${spelling}`, headers: auth });
      expect(response.statusCode, spelling).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect((await app.inject({ method: 'GET', url: `/orders/${order.id}`, headers: auth })).statusCode).toBe(200);
  });

  describe('Idempotency-Key bound to its request', () => {
    const caller = async () => {
      const user = { id: randomUUID(), email: 'k@example.com' };
      return { user, auth: { authorization: `Bearer ${await tokens.tokenFor(user)}` } };
    };
    const place = (headers: Record<string, string>, price: number) => app.inject({ method: 'POST', url: '/orders', headers, payload: { price } });

    it('answers a repeat with the same order (200) and the same key with another price with 422 problem+json', async () => {
      const { user, auth } = await caller();
      const headers = { ...auth, 'idempotency-key': randomUUID() };
      const first = await place(headers, 700);
      const again = await place(headers, 700);
      expect([first.statusCode, again.statusCode]).toEqual([201, 200]);
      expect(again.json()).toEqual(first.json());
      const reused = await place(headers, 701);
      expect(reused.statusCode).toBe(422);
      expect(reused.headers['content-type']).toContain('application/problem+json');
      expect(reused.json()).toMatchObject({ status: 422, title: 'Idempotency-Key reused' });
      expect(await db.order.count({ where: { userId: user.id } })).toBe(1);
      expect(await outboxFor(first.json<{ id: string }>().id)).toHaveLength(1);
      // What is stored is the fingerprint the migration computes for older keys in SQL.
      const stored = await db.idempotencyKey.findUnique({ where: { userId_key: { userId: user.id, key: headers['idempotency-key'] } } });
      expect(stored?.fingerprint).toBe(requestFingerprint({ method: 'POST', route: '/orders', userId: user.id, body: { price: 700 } }));
    });

    it('gives 20 concurrent requests with one key one order and one OrderPlaced; every answer is that order', async () => {
      const { user, auth } = await caller();
      const headers = { ...auth, 'idempotency-key': randomUUID() };
      const answers = await Promise.all(Array.from({ length: 20 }, () => place(headers, 900)));
      expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
      expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(19);
      const ids = new Set(answers.map((a) => a.json<{ id: string }>().id));
      expect(ids.size).toBe(1);
      expect(await db.order.count({ where: { userId: user.id } })).toBe(1);
      expect(await outboxFor([...ids][0] ?? '')).toHaveLength(1);
    });

    it('treats a key older than the retention as new: a new order, recorded under the key', async () => {
      const { user, auth } = await caller();
      const headers = { ...auth, 'idempotency-key': randomUUID() };
      const first = (await place(headers, 700)).json<{ id: string }>();
      await db.$executeRaw`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = ${user.id}::uuid`;
      const second = await place(headers, 701);
      expect(second.statusCode).toBe(201);
      expect(second.json<{ id: string }>().id).not.toBe(first.id);
      const again = await place(headers, 701);
      expect([again.statusCode, again.json<{ id: string }>().id]).toEqual([200, second.json<{ id: string }>().id]);
    });

    it('accepts orders without a key, each one a new order', async () => {
      const { user, auth } = await caller();
      expect((await place(auth, 100)).statusCode).toBe(201);
      expect((await place(auth, 100)).statusCode).toBe(201);
      expect(await db.order.count({ where: { userId: user.id } })).toBe(2);
    });
  });
});

describe('POST /orders when no database connection is free', () => {
  it('answers 503 problem+json with Retry-After within the pool wait, and writes nothing', async () => {
    const tight = createSqlDb({ connectionString: database.url, max: 1, connectionTimeoutMs: 200 });
    const server = await buildApp({
      logger: createLogger('order-test', 'silent'),
      orders: new Orders(db, tight, 'order-service'),
      verifyToken: await createTokenVerifier(tokens),
      readiness: [],
      bodyLimit: 1_024,
    });
    const user = { id: randomUUID(), email: 'busy@example.com' };
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holding: () => void = () => undefined;
    const connectionTaken = new Promise<void>((resolve) => (holding = resolve));
    // The pool's only connection is busy until the answer is in.
    const busy = tight.$transaction(async () => {
      holding();
      await held;
    });
    try {
      await connectionTaken;
      const response = await server.inject({ method: 'POST', url: '/orders', headers: { authorization: `Bearer ${await tokens.tokenFor(user)}` }, payload: { price: 100 } });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['retry-after']).toBe('1');
    } finally {
      release();
      await busy;
      await server.close();
      await tight.$disconnect();
    }
    expect(await db.order.count({ where: { userId: user.id } })).toBe(0);
  });
});

describe('GET /orders/{id} with Prefer: wait', () => {
  // A second app like main.ts builds it: the listener LISTENs on the scratch database that
  // Orders.settle NOTIFYs in; the settling happens outside the app, as another replica's consumer would.
  const listener = new NotificationListener({ connectionString: database.url, channel: orderSettledChannel });
  let waiting: HttpServer;
  beforeAll(async () => {
    await listener.start();
    waiting = await buildApp({ logger: createLogger('order-test', 'silent'), orders, verifyToken: await createTokenVerifier(tokens), readiness: [], bodyLimit: 1_024, wait: { listener, maxSeconds: 5 } });
  });
  afterAll(async () => {
    await waiting.close();
  });

  async function pendingOrder() {
    const user = { id: randomUUID(), email: 'w@example.com' };
    const { order } = await orders.place(user.id, 300, context);
    return { order, auth: { authorization: `Bearer ${await tokens.tokenFor(user)}` } };
  }
  const get = (id: string, headers: Record<string, string>) => waiting.inject({ method: 'GET', url: `/orders/${id}`, headers });

  it('answers as soon as the order is settled, saying the preference was applied', async () => {
    const { order, auth } = await pendingOrder();
    const answer = get(order.id, { ...auth, prefer: 'wait=5' });
    await expect.poll(() => listener.waiting).toBe(1);
    const started = Date.now();
    await db.$transaction((tx) => orders.settle(tx, succeeded(order.id, order.userId, 300), { kind: 'succeeded' }, context));
    const response = await answer;
    expect(Date.now() - started).toBeLessThan(4_000); // the 5 s wait was cut short by the NOTIFY
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: order.id, status: 'PAID' });
    expect(response.headers['preference-applied']).toBe('wait=5');
  });

  it('answers with the current state when the wait is over, capped at the maximum', async () => {
    const { order, auth } = await pendingOrder();
    const started = Date.now();
    const response = await get(order.id, { ...auth, prefer: 'wait=1' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(response.json()).toMatchObject({ status: 'PENDING_PAYMENT' });
    expect(response.headers['preference-applied']).toBe('wait=1');
    const settledAlready = await pendingOrder();
    await db.$transaction((tx) => orders.settle(tx, failed(settledAlready.order.id, settledAlready.order.userId, 300), { kind: 'failed', reason: 'INSUFFICIENT_FUNDS' }, context));
    const capped = await get(settledAlready.order.id, { ...settledAlready.auth, prefer: 'wait=600' });
    expect(capped.json()).toMatchObject({ status: 'PAYMENT_FAILED' });
    expect(capped.headers['preference-applied']).toBe('wait=5');
  });

  it('answers at once without the preference, and 404 for an unknown order even when asked to wait', async () => {
    const { order, auth } = await pendingOrder();
    const plain = await get(order.id, auth);
    expect(plain.json()).toMatchObject({ status: 'PENDING_PAYMENT' });
    expect(plain.headers['preference-applied']).toBeUndefined();
    expect((await get(randomUUID(), { ...auth, prefer: 'wait=5' })).statusCode).toBe(404);
  });

  it('answers waiting requests at once with the current state when the server shuts down', async () => {
    const closing = new NotificationListener({ connectionString: database.url, channel: orderSettledChannel });
    await closing.start();
    const server = await buildApp({ logger: createLogger('order-test', 'silent'), orders, verifyToken: await createTokenVerifier(tokens), readiness: [], bodyLimit: 1_024, wait: { listener: closing, maxSeconds: 30 } });
    const { order, auth } = await pendingOrder();
    const answer = server.inject({ method: 'GET', url: `/orders/${order.id}`, headers: { ...auth, prefer: 'wait=30' } });
    await expect.poll(() => closing.waiting).toBe(1);
    const started = Date.now();
    await server.close();
    const response = await answer;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'PENDING_PAYMENT' });
  });
});
