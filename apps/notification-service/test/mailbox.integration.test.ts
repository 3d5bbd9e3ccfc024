import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderPaid, OrderPaymentFailed, UserCreated } from '@eventflow/events';
import { createTokenVerifier, type HttpServer } from '@eventflow/http';
import { PoisonMessageError, RetryableError, createLogger } from '@eventflow/platform';
import { NotificationListener } from '@eventflow/platform/db';
import { eventContextOf } from '@eventflow/messaging';
import { createTestTokens, eventMetadata, scratchDatabase, waitFor } from '@eventflow/testing';
import { buildApp } from '../src/app.js';
import { Mailbox, orderMessageChannel } from '../src/application/mailbox.js';
import { notificationHandlers } from '../src/events/handlers.js';
import { createDb, type Db } from '../src/persistence/prisma.js';

// A migrated scratch database on the real PostgreSQL; no Kafka needed at this level.
const database = await scratchDatabase(fileURLToPath(new URL('../prisma/migrations', import.meta.url)));
const db: Db = createDb(database.url);
let now = Date.now();
const mailbox = new Mailbox(db, { recipientWaitMs: 30_000, now: () => now });
const tokens = createTestTokens();
let app: HttpServer;

const metadata = (eventType: string, occurredAt = Date.now()) => eventMetadata(eventType, occurredAt);

async function recipient(): Promise<{ id: string; email: string }> {
  const user = { id: randomUUID(), email: `${randomUUID()}@example.com` };
  const event: UserCreated = { metadata: metadata('UserCreated'), userId: user.id, email: user.email, name: 'Ada', createdAt: Date.now() };
  await db.$transaction((tx) => mailbox.rememberRecipient(tx, event));
  return user;
}
const paid = (userId: string, price = 1_234, occurredAt = Date.now()): OrderPaid => ({
  metadata: metadata('OrderPaid', occurredAt),
  orderId: randomUUID(),
  userId,
  price,
  paidAt: occurredAt,
  balanceAfter: null,
});
const failed = (userId: string): OrderPaymentFailed => ({
  metadata: metadata('OrderPaymentFailed'),
  orderId: randomUUID(),
  userId,
  price: 99_999,
  reason: 'INSUFFICIENT_FUNDS',
  failedAt: Date.now(),
});

beforeAll(async () => {
  app = await buildApp({
    logger: createLogger('notification-test', 'silent'),
    mailbox,
    verifyToken: await createTokenVerifier(tokens),
    readiness: [],
    bodyLimit: 16_384,
  });
});
afterAll(async () => {
  await app.close();
  await db.$disconnect();
  await database.drop();
});

describe('mailbox on PostgreSQL', () => {
  it('stores exactly one success e-mail per order, however often the outcome arrives', async () => {
    const user = await recipient();
    const event = paid(user.id);
    expect(await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, event))).toBe('sent');
    expect(await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, { ...event, metadata: metadata('OrderPaid') }))).toBe('already-sent');
    const { items } = await mailbox.list(user.id, { orderId: event.orderId, limit: 10, offset: 0 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'ORDER_PAID', recipient: user.email, amount: 1_234, orderId: event.orderId });
    expect(items[0]?.body).toContain('12.34');
  });

  it('tells the balance after the charge when OrderPaid carries it (version 2), not when it is an older event', async () => {
    const user = await recipient();
    const [newer, older] = [{ ...paid(user.id), balanceAfter: 8_766 }, paid(user.id)];
    for (const event of [newer, older]) await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, event));
    const bodyOf = async (orderId: string) => (await mailbox.list(user.id, { orderId, limit: 1, offset: 0 })).items[0]?.body;
    expect(await bodyOf(newer.orderId)).toContain('Your balance is now 87.66.');
    expect(await bodyOf(older.orderId)).not.toContain('balance');
  });

  it('stores a failure e-mail that says why', async () => {
    const user = await recipient();
    const event = failed(user.id);
    await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, event));
    const { items } = await mailbox.list(user.id, { orderId: event.orderId, limit: 10, offset: 0 });
    expect(items[0]).toMatchObject({ kind: 'ORDER_PAYMENT_FAILED', subject: `Order ${event.orderId} could not be paid` });
  });

  it('retries while the recipient may still arrive, then gives the message up as poison', async () => {
    const event = paid(randomUUID());
    now = event.metadata.occurredAt + 5_000;
    await expect(db.$transaction((tx) => mailbox.sendOrderOutcome(tx, event))).rejects.toBeInstanceOf(RetryableError);
    now = event.metadata.occurredAt + 60_000;
    await expect(db.$transaction((tx) => mailbox.sendOrderOutcome(tx, event))).rejects.toBeInstanceOf(PoisonMessageError);
    now = Date.now();
  });

  it('keeps the first recipient when UserCreated is replayed with a new event id', async () => {
    const handlers = notificationHandlers(mailbox);
    const logger = createLogger('notification-test', 'silent');
    const userId = randomUUID();
    const original: UserCreated = { metadata: metadata('UserCreated'), userId, email: 'first@example.com', name: 'First', createdAt: Date.now() };
    // A replay (or a buggy producer) publishes the same user again under a new event id, so the inbox lets it through.
    const replayed: UserCreated = { ...original, metadata: metadata('UserCreated'), email: 'second@example.com', name: 'Second' };
    for (const event of [original, replayed]) {
      await db.$transaction((tx) => handlers.UserCreated!(event, { tx, metadata: event.metadata, headers: {}, logger, attempt: 1, eventContext: eventContextOf(event.metadata, 'notification-service') }));
    }
    expect(await db.recipient.findMany({ where: { userId } })).toEqual([expect.objectContaining({ email: 'first@example.com', name: 'First' })]);
    const order = paid(userId);
    await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, order));
    const { items } = await mailbox.list(userId, { orderId: order.orderId, limit: 10, offset: 0 });
    expect(items.map((m) => m.recipient)).toEqual(['first@example.com']);
    expect(items[0]?.body).toContain('Hello First');
  });

  it('refuses events with invalid fields as poison, before touching the database', async () => {
    const handlers = notificationHandlers(mailbox);
    const logger = createLogger('notification-test', 'silent');
    const bad: OrderPaid = { ...paid(randomUUID()), orderId: 'not-a-uuid', price: 0 };
    await expect(
      db.$transaction((tx) => handlers.OrderPaid!(bad, { tx, metadata: bad.metadata, headers: {}, logger, attempt: 1, eventContext: eventContextOf(bad.metadata, 'notification-service') })),
    ).rejects.toThrow(/invalid OrderPaid: orderId is not a UUID: "not-a-uuid"; price must be an integer/);
    const user: UserCreated = { metadata: metadata('UserCreated'), userId: 'u-1', email: 'x@example.com', name: 'X', createdAt: Date.now() };
    await expect(
      db.$transaction((tx) => handlers.UserCreated!(user, { tx, metadata: user.metadata, headers: {}, logger, attempt: 1, eventContext: eventContextOf(user.metadata, 'notification-service') })),
    ).rejects.toBeInstanceOf(PoisonMessageError);
  });

  it('lists newest first and pages', async () => {
    const user = await recipient();
    for (let i = 0; i < 3; i++) {
      // sent_at has millisecond precision: let the clock move on so "newest" is well defined.
      const before = Date.now();
      await waitFor('the clock to tick', async () => (Date.now() > before ? true : undefined), { intervalMs: 1 });
      await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, paid(user.id, 100 + i)));
    }
    const firstPage = await mailbox.list(user.id, { limit: 2, offset: 0 });
    const secondPage = await mailbox.list(user.id, { limit: 2, offset: 2 });
    expect(firstPage.total).toBe(3);
    expect(firstPage.items.map((m) => m.amount)).toEqual([102, 101]);
    expect(secondPage.items.map((m) => m.amount)).toEqual([100]);
  });
});

describe('notifications HTTP API', () => {
  it("sends a direct message only to the caller's own address", async () => {
    const user = await recipient();
    const auth = { authorization: `Bearer ${await tokens.tokenFor(user)}` };
    const own = await app.inject({ method: 'POST', url: '/notifications/messages', headers: auth, payload: { subject: 'Hi', body: 'me' } });
    expect(own.statusCode).toBe(201);
    expect(own.json()).toMatchObject({ kind: 'DIRECT', recipient: user.email });
    const other = await app.inject({ method: 'POST', url: '/notifications/messages', headers: auth, payload: { to: 'victim@example.com', subject: 'Hi', body: 'spam' } });
    expect(other.statusCode).toBe(403);
    expect(other.json()).toMatchObject({ status: 403, title: 'Forbidden recipient' });
  });

  it("lists only the caller's messages and needs a token", async () => {
    const user = await recipient();
    await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, paid(user.id)));
    const mine = await app.inject({ method: 'GET', url: '/notifications/messages', headers: { authorization: `Bearer ${await tokens.tokenFor(user)}` } });
    expect(mine.json()).toMatchObject({ total: 1 });
    const stranger = await app.inject({
      method: 'GET',
      url: '/notifications/messages',
      headers: { authorization: `Bearer ${await tokens.tokenFor({ id: randomUUID(), email: 'x@example.com' })}` },
    });
    expect(stranger.json()).toMatchObject({ total: 0, items: [] });
    expect((await app.inject({ method: 'GET', url: '/notifications/messages' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/notifications/messages?limit=0', headers: { authorization: `Bearer ${await tokens.tokenFor(user)}` } })).statusCode).toBe(400);
  });
});

describe('GET /notifications/messages?orderId= with Prefer: wait', () => {
  it('answers as soon as the e-mail about the order is stored, in another process\'s transaction', async () => {
    const listener = new NotificationListener({ connectionString: database.url, channel: orderMessageChannel });
    await listener.start();
    const waiting = await buildApp({ logger: createLogger('notification-test', 'silent'), mailbox, verifyToken: await createTokenVerifier(tokens), readiness: [], bodyLimit: 16_384, wait: { listener, maxSeconds: 5 } });
    try {
      const user = await recipient();
      const auth = { authorization: `Bearer ${await tokens.tokenFor({ id: user.id, email: user.email })}` };
      const event = paid(user.id);
      const answer = waiting.inject({ method: 'GET', url: `/notifications/messages?orderId=${event.orderId}`, headers: { ...auth, prefer: 'wait=5' } });
      await expect.poll(() => listener.waiting).toBe(1);
      const started = Date.now();
      await db.$transaction((tx) => mailbox.sendOrderOutcome(tx, event));
      const response = await answer;
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(response.headers['preference-applied']).toBe('wait=5');
      expect(response.json()).toMatchObject({ total: 1, items: [{ orderId: event.orderId, kind: 'ORDER_PAID' }] });
      // Without orderId there is nothing to wait for: an immediate answer, no Preference-Applied.
      const list = await waiting.inject({ method: 'GET', url: '/notifications/messages', headers: { ...auth, prefer: 'wait=5' } });
      expect(list.headers['preference-applied']).toBeUndefined();
    } finally {
      await waiting.close();
    }
  });
});
