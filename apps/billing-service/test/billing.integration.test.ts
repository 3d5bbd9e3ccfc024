import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderPlaced, UserCreated } from '@eventflow/events';
import { createTokenVerifier, requestFingerprint, type HttpServer } from '@eventflow/http';
import { RetryableError, createLogger } from '@eventflow/platform';
import { NotificationListener } from '@eventflow/platform/db';
import { createTestTokens, eventMetadata, scratchDatabase } from '@eventflow/testing';
import { buildApp } from '../src/app.js';
import { Ledger } from '../src/application/ledger.js';
import { paymentDecidedChannel } from '../src/persistence/payments.js';
import { createDb, type Db } from '../src/persistence/prisma.js';

// A migrated scratch database on the real PostgreSQL; no Kafka needed at this level.
const database = await scratchDatabase(fileURLToPath(new URL('../prisma/migrations', import.meta.url)));
const db: Db = createDb(database.url);
let now = Date.now();
const ledger = new Ledger(db, { producer: 'billing-service', accountWaitMs: 30_000, now: () => now });
const tokens = createTestTokens();
let app: HttpServer;

const metadata = (eventType: string, occurredAt = Date.now()) => eventMetadata(eventType, occurredAt);
const context = { producer: 'billing-service', correlationId: 'test' };

async function openAccount(balance = 0): Promise<string> {
  const userId = randomUUID();
  const event: UserCreated = { metadata: metadata('UserCreated'), userId, email: `${userId}@example.com`, name: 'T', createdAt: Date.now() };
  await db.$transaction((tx) => ledger.openAccount(tx, event));
  if (balance > 0) await ledger.deposit(userId, balance);
  return userId;
}

const orderPlaced = (userId: string, price: number, occurredAt = Date.now()): OrderPlaced => ({
  metadata: metadata('OrderPlaced', occurredAt),
  orderId: randomUUID(),
  userId,
  price,
  placedAt: occurredAt,
});

const outboxFor = (orderId: string) =>
  db.$queryRaw<Array<{ event_type: string; payload: Record<string, unknown> }>>`
    SELECT event_type, payload FROM outbox_events WHERE payload->>'orderId' = ${orderId}`;

beforeAll(async () => {
  app = await buildApp({
    logger: createLogger('billing-test', 'silent'),
    ledger,
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

describe('ledger on PostgreSQL', () => {
  it('opens one account per user even when UserCreated is applied twice', async () => {
    const userId = await openAccount();
    const again: UserCreated = { metadata: metadata('UserCreated'), userId, email: 'x@example.com', name: 'T', createdAt: Date.now() };
    await db.$transaction((tx) => ledger.openAccount(tx, again));
    expect(await db.account.count({ where: { userId } })).toBe(1);
    expect((await ledger.getAccount(userId))?.balance).toBe(0);
  });

  it('never overdraws under 40 concurrent withdrawals', async () => {
    const userId = await openAccount(1_000);
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => ledger.withdraw(userId, 100)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r.reason as Error).message.includes('lower than'))).toBe(true);
    expect((await ledger.getAccount(userId))?.balance).toBe(0);
  });

  it('answers a repeated Idempotency-Key with the first result instead of moving money twice', async () => {
    const userId = await openAccount();
    const key = { key: 'key-1', fingerprint: 'deposit 500' };
    const first = await ledger.deposit(userId, 500, key);
    const second = await ledger.deposit(userId, 500, key);
    expect(second).toEqual({ transaction: first.transaction, replayed: true });
    expect((await ledger.getAccount(userId))?.balance).toBe(500);
  });

  it('charges an order once, however often it is delivered, and tells the outcome through the outbox', async () => {
    const userId = await openAccount(1_000);
    const event = orderPlaced(userId, 400);
    expect(await db.$transaction((tx) => ledger.chargeOrder(tx, event, context))).toBe('SUCCEEDED');
    expect(await db.$transaction((tx) => ledger.chargeOrder(tx, { ...event, metadata: metadata('OrderPlaced') }, context))).toBe('ALREADY_CHARGED');
    expect((await ledger.getAccount(userId))?.balance).toBe(600);
    const outbox = await outboxFor(event.orderId);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({ event_type: 'PaymentSucceeded', payload: { amount: 400, balanceAfter: 600, userId } });
  });

  it('refuses an order the balance does not cover and leaves the balance alone', async () => {
    const userId = await openAccount(100);
    const event = orderPlaced(userId, 101);
    expect(await db.$transaction((tx) => ledger.chargeOrder(tx, event, context))).toBe('FAILED');
    expect((await ledger.getAccount(userId))?.balance).toBe(100);
    expect((await outboxFor(event.orderId))[0]).toMatchObject({ event_type: 'PaymentFailed', payload: { reason: 'INSUFFICIENT_FUNDS' } });
  });

  it('waits for a missing account while the order is young, then fails it with ACCOUNT_NOT_FOUND', async () => {
    const event = orderPlaced(randomUUID(), 100);
    now = event.metadata.occurredAt + 1_000;
    await expect(db.$transaction((tx) => ledger.chargeOrder(tx, event, context))).rejects.toBeInstanceOf(RetryableError);
    now = event.metadata.occurredAt + 31_000;
    expect(await db.$transaction((tx) => ledger.chargeOrder(tx, event, context))).toBe('FAILED');
    expect((await outboxFor(event.orderId))[0]).toMatchObject({ event_type: 'PaymentFailed', payload: { reason: 'ACCOUNT_NOT_FOUND' } });
    now = Date.now();
  });
});

describe('billing HTTP API', () => {
  const inject = async (method: 'GET' | 'POST', url: string, options: { token?: string; payload?: unknown; headers?: Record<string, string> } = {}) =>
    app.inject({
      method,
      url,
      headers: {
        'content-type': 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        // Withdrawals require a key (428 without); a fresh one unless the test gives its own.
        ...(url.endsWith('/withdrawals') ? { 'idempotency-key': randomUUID() } : {}),
        ...options.headers,
      },
      ...(options.payload === undefined ? {} : { payload: typeof options.payload === 'string' ? options.payload : JSON.stringify(options.payload) }),
    });

  it('deposits, withdraws and refuses to overdraw with a 409 problem', async () => {
    const userId = await openAccount();
    const token = await tokens.tokenFor({ id: userId, email: 'a@example.com' });
    expect((await inject('POST', '/billing/accounts/me/deposits', { token, payload: { amount: 300 } })).statusCode).toBe(201);
    const withdrawal = await inject('POST', `/billing/accounts/${userId}/withdrawals`, { token, payload: { amount: 200 } });
    expect(withdrawal.json()).toMatchObject({ kind: 'WITHDRAWAL', amount: 200, balanceAfter: 100 });
    const refused = await inject('POST', '/billing/accounts/me/withdrawals', { token, payload: { amount: 101 } });
    expect(refused.statusCode).toBe(409);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json()).toMatchObject({ status: 409, title: 'Insufficient funds', balance: 100 });
    expect((await inject('GET', '/billing/accounts/me', { token })).json()).toMatchObject({ userId, balance: 100 });
  });

  it.each([
    ['zero', { amount: 0 }],
    ['negative', { amount: -1 }],
    ['fractional', { amount: 1.5 }],
    ['a string', { amount: '100' }],
    ['absurdly large', { amount: 1e18 }],
    ['missing', {}],
    ['with unknown fields', { amount: 1, extra: true }],
  ])('rejects an amount that is %s with a 400 problem', async (_label, payload) => {
    const userId = await openAccount();
    const response = await inject('POST', '/billing/accounts/me/deposits', { token: await tokens.tokenFor({ id: userId, email: 'a@example.com' }), payload });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ status: 400, title: 'Invalid request' });
    expect((await ledger.getAccount(userId))?.balance).toBe(0);
  });

  it('answers malformed JSON with 400, an oversized body with 413, a missing or bad token with 401', async () => {
    const userId = await openAccount();
    const token = await tokens.tokenFor({ id: userId, email: 'a@example.com' });
    expect((await inject('POST', '/billing/accounts/me/deposits', { token, payload: '{"amount":' })).statusCode).toBe(400);
    expect((await inject('POST', '/billing/accounts/me/deposits', { token, payload: { amount: 1, pad: 'x'.repeat(2_000) } })).statusCode).toBe(413);
    expect((await inject('GET', '/billing/accounts/me')).statusCode).toBe(401);
    expect((await inject('GET', '/billing/accounts/me', { token: `${token}x` })).statusCode).toBe(401);
    const expired = await tokens.tokenFor({ id: userId, email: 'a@example.com' }, { expiresIn: '-1s' });
    expect((await inject('GET', '/billing/accounts/me', { token: expired })).statusCode).toBe(401);
  });

  it("hides another user's account behind a 404 and never changes it", async () => {
    const owner = await openAccount(500);
    const intruder = await tokens.tokenFor({ id: randomUUID(), email: 'b@example.com' });
    expect((await inject('GET', `/billing/accounts/${owner}`, { token: intruder })).statusCode).toBe(404);
    expect((await inject('POST', `/billing/accounts/${owner}/withdrawals`, { token: intruder, payload: { amount: 500 } })).statusCode).toBe(404);
    expect((await ledger.getAccount(owner))?.balance).toBe(500);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const response = await inject('GET', '/billing/nothing-here');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  describe('Idempotency-Key bound to its request', () => {
    const account = async (balance = 0) => {
      const userId = await openAccount(balance);
      return { userId, token: await tokens.tokenFor({ id: userId, email: `${userId}@example.com` }) };
    };

    it('answers a repeat of the same request with the first result (200) and moves the money once', async () => {
      const { userId, token } = await account();
      const headers = { 'idempotency-key': randomUUID() };
      const first = await inject('POST', '/billing/accounts/me/deposits', { token, payload: { amount: 300 }, headers });
      // Another spelling of the same request: the caller's id instead of `me`, the same body.
      const again = await inject('POST', `/billing/accounts/${userId}/deposits`, { token, payload: { amount: 300 }, headers });
      expect(first.statusCode).toBe(201);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(first.json());
      expect((await ledger.getAccount(userId))?.balance).toBe(300);
      // What is stored is the fingerprint the migration computes for older keys in SQL.
      const stored = await db.idempotencyKey.findUnique({ where: { userId_key: { userId, key: headers['idempotency-key'] } } });
      expect(stored).toMatchObject({
        fingerprint: requestFingerprint({ method: 'POST', route: '/billing/accounts/:userId/deposits', userId, body: { amount: 300 } }),
        resourceId: first.json<{ id: string }>().id,
      });
    });

    it('answers the same key with a different request with 422 problem+json, and acts on neither', async () => {
      const { userId, token } = await account(1_000);
      const key = randomUUID();
      const headers = { 'idempotency-key': key };
      expect((await inject('POST', '/billing/accounts/me/withdrawals', { token, payload: { amount: 100 }, headers })).statusCode).toBe(201);
      for (const [url, amount] of [
        ['/billing/accounts/me/withdrawals', 999], // another amount
        ['/billing/accounts/me/deposits', 100], // another operation
      ] as const) {
        const reused = await inject('POST', url, { token, payload: { amount }, headers });
        expect(reused.statusCode).toBe(422);
        expect(reused.headers['content-type']).toContain('application/problem+json');
        expect(reused.json()).toMatchObject({ status: 422, title: 'Idempotency-Key reused', type: 'https://arch.homework/problems/idempotency-key-reused' });
      }
      expect((await ledger.getAccount(userId))?.balance).toBe(900);
      // Keys are per user: another user's key of the same spelling is another key.
      const other = await account(1_000);
      expect((await inject('POST', '/billing/accounts/me/withdrawals', { token: other.token, payload: { amount: 999 }, headers })).statusCode).toBe(201);
      // Mismatches are audit events, counted in /metrics.
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toMatch(/eventflow_audit_events_total\{[^}]*event="idempotency_mismatch"[^}]*\} [1-9]/);
    });

    it('requires a key on withdrawals: 428 problem+json without one; deposits go without', async () => {
      const { userId, token } = await account(1_000);
      const response = await app.inject({
        method: 'POST',
        url: '/billing/accounts/me/withdrawals',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ amount: 100 }),
      });
      expect(response.statusCode).toBe(428);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status: 428, title: 'Idempotency-Key required' });
      expect((await inject('POST', '/billing/accounts/me/deposits', { token, payload: { amount: 1 } })).statusCode).toBe(201);
      expect((await ledger.getAccount(userId))?.balance).toBe(1_001);
      // Anonymous: still 401 first, nothing about keys.
      expect((await app.inject({ method: 'POST', url: '/billing/accounts/me/withdrawals', payload: { amount: 1 } })).statusCode).toBe(401);
    });

    it('gives 25 concurrent requests with one key one effect; every answer is that effect', async () => {
      const { userId, token } = await account(1_000);
      const headers = { 'idempotency-key': randomUUID() };
      const answers = await Promise.all(
        Array.from({ length: 25 }, () => inject('POST', '/billing/accounts/me/withdrawals', { token, payload: { amount: 400 }, headers })),
      );
      expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
      expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(24);
      expect(new Set(answers.map((a) => a.json<{ id: string }>().id)).size).toBe(1);
      expect((await ledger.getAccount(userId))?.balance).toBe(600);
      expect((await ledger.listTransactions(userId, 100)).filter((t) => t.kind === 'WITHDRAWAL')).toHaveLength(1);
    });

    it('leaves the key of a refused request free, so the client can retry it once the cause is gone', async () => {
      const { userId, token } = await account(100);
      const headers = { 'idempotency-key': randomUUID() };
      expect((await inject('POST', '/billing/accounts/me/withdrawals', { token, payload: { amount: 150 }, headers })).statusCode).toBe(409);
      expect((await inject('POST', '/billing/accounts/me/deposits', { token, payload: { amount: 50 } })).statusCode).toBe(201);
      expect((await inject('POST', '/billing/accounts/me/withdrawals', { token, payload: { amount: 150 }, headers })).statusCode).toBe(201);
      expect((await ledger.getAccount(userId))?.balance).toBe(0);
    });

    it('forgets keys after the retention (24 h): an old key acts anew, and pruning deletes it', async () => {
      const { userId, token } = await account();
      const key = randomUUID();
      const headers = { 'idempotency-key': key };
      expect((await inject('POST', '/billing/accounts/me/deposits', { token, payload: { amount: 10 }, headers })).statusCode).toBe(201);
      await db.$executeRaw`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = ${userId}::uuid AND key = ${key}`;
      // Expired: the same key with another body is a new request, not a 422.
      expect((await inject('POST', '/billing/accounts/me/deposits', { token, payload: { amount: 20 }, headers })).statusCode).toBe(201);
      expect((await ledger.getAccount(userId))?.balance).toBe(30);
      await db.$executeRaw`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = ${userId}::uuid AND key = ${key}`;
      expect(await ledger.pruneIdempotencyKeys()).toBeGreaterThanOrEqual(1);
      expect(await db.idempotencyKey.count({ where: { userId } })).toBe(0);
    });
  });

  describe('identifiers and text at the edge', () => {
    it.each([
      ['a URN', (id: string) => `urn:uuid:${id}`],
      ['upper case', (id: string) => id.toUpperCase()],
      ['braces', (id: string) => `{${id}}`],
      ['no hyphens', (id: string) => id.replaceAll('-', '')],
      ['hyphens every four digits', (id: string) => id.replaceAll('-', '').replace(/(.{4})(?!$)/g, '$1-')],
      ['a trailing space', (id: string) => `${id}%20`],
      ['not hex', (id: string) => `${id.slice(0, -1)}g`],
    ])('answers an id spelled as %s with 400 problem+json, in the path and in the query', async (_label, spell) => {
      const userId = await openAccount(100);
      const token = await tokens.tokenFor({ id: userId, email: `${userId}@example.com` });
      for (const url of [`/billing/accounts/${spell(userId)}`, `/billing/accounts/me/transactions?orderId=${spell(randomUUID())}`]) {
        const response = await inject('GET', url, { token });
        expect(response.statusCode, url).toBe(400);
        expect(response.headers['content-type']).toContain('application/problem+json');
      }
      expect((await inject('GET', `/billing/accounts/${userId}`, { token })).statusCode).toBe(200);
    });

    it('keeps a client x-request-id only when it is a UUID', async () => {
      const id = randomUUID();
      const kept = await app.inject({ method: 'GET', url: '/billing/nothing-here', headers: { 'x-request-id': id } });
      expect(kept.headers['x-request-id']).toBe(id);
      for (const forged of ['abc', 'x'.repeat(500), `${id}\nINFO forged log line`.replace('\n', ' ')]) {
        const replaced = await app.inject({ method: 'GET', url: '/billing/nothing-here', headers: { 'x-request-id': forged } });
        expect(replaced.headers['x-request-id']).not.toBe(forged);
        expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      }
    });
  });
});

describe('GET /billing/accounts/me/transactions?orderId= with Prefer: wait', () => {
  it("answers as soon as billing decides, with the order's charge and the decision", async () => {
    const listener = new NotificationListener({ connectionString: database.url, channel: paymentDecidedChannel });
    await listener.start();
    const waiting = await buildApp({ logger: createLogger('billing-test', 'silent'), ledger, verifyToken: await createTokenVerifier(tokens), readiness: [], bodyLimit: 1_024, wait: { listener, maxSeconds: 5 } });
    try {
      const userId = await openAccount(1_000);
      const auth = { authorization: `Bearer ${await tokens.tokenFor({ id: userId, email: `${userId}@example.com` })}` };
      const [paid, refused] = [orderPlaced(userId, 400), orderPlaced(userId, 5_000)];
      const url = (orderId: string) => `/billing/accounts/me/transactions?orderId=${orderId}`;
      const answers = [paid, refused].map((o) => waiting.inject({ method: 'GET', url: url(o.orderId), headers: { ...auth, prefer: 'wait=5' } }));
      await expect.poll(() => listener.waiting).toBe(2);
      const started = Date.now();
      for (const event of [paid, refused]) await db.$transaction((tx) => ledger.chargeOrder(tx, event, context));
      const [charged, declined] = await Promise.all(answers);
      expect(Date.now() - started).toBeLessThan(4_000);
      expect(charged?.headers['preference-applied']).toBe('wait=5');
      expect(charged?.json()).toMatchObject({ items: [{ kind: 'ORDER_CHARGE', amount: 400, balanceAfter: 600, orderId: paid.orderId }], payment: { orderId: paid.orderId, status: 'SUCCEEDED', failureReason: null } });
      expect(declined?.json()).toMatchObject({ items: [], payment: { status: 'FAILED', failureReason: 'INSUFFICIENT_FUNDS' } });
      // Undecided after the wait: the decision is null; without orderId the ledger as before.
      const undecided = await waiting.inject({ method: 'GET', url: url(randomUUID()), headers: { ...auth, prefer: 'wait=1' } });
      expect(undecided.json()).toEqual({ items: [], payment: null });
      const ledgerPage = await waiting.inject({ method: 'GET', url: '/billing/accounts/me/transactions', headers: { ...auth, prefer: 'wait=5' } });
      expect(ledgerPage.headers['preference-applied']).toBeUndefined();
      expect(ledgerPage.json<{ items: unknown[] }>().items).toHaveLength(2);
    } finally {
      await waiting.close();
    }
  });
});
