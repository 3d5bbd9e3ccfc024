import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationListener, notifyWaiters, type RawExecutor } from '../src/db/index.js';

// The local stack's PostgreSQL; LISTEN/NOTIFY needs no table, a channel of its own is enough.
const adminUrl = process.env['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres';
const channel = `test_${randomUUID().replace(/-/g, '')}`;
const listener = new NotificationListener({ connectionString: adminUrl, channel, reconnectDelayMs: 100 });
const writer = new pg.Client({ connectionString: adminUrl });

/** A committed (or rolled back) transaction that notifies `key`, like the services' settling transactions. */
async function notifyIn(key: string, outcome: 'COMMIT' | 'ROLLBACK' = 'COMMIT'): Promise<void> {
  await writer.query('BEGIN');
  await writer.query('SELECT pg_notify($1, $2)', [channel, key]);
  await writer.query(outcome);
}

beforeAll(async () => {
  await listener.start();
  await writer.connect();
});
afterAll(async () => {
  await listener.close();
  await writer.end();
});

/** A pg client as the RawExecutor of notifyWaiters (a Prisma transaction client in the services). */
const executorOf = (client: pg.Client): RawExecutor => ({
  $executeRawUnsafe: async (query, ...values) => (await client.query(query, values)).rowCount ?? 0,
});

describe('NotificationListener on PostgreSQL', () => {
  it('wakes the waiters of the notified key at commit, and only them', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const waitA = listener.arm(a).wait(10_000);
    const armedB = listener.arm(b);
    const waitB = armedB.wait(300);
    await notifyIn(a, 'ROLLBACK'); // never delivered
    await notifyIn(a);
    expect(await waitA).toBe('notified');
    expect(await waitB).toBe('timeout');
    expect(listener.waiting).toBe(0);
  });

  it('waitUntil re-reads only on notifications and returns the final value', async () => {
    const key = randomUUID();
    let state = 'PENDING';
    let reads = 0;
    const read = async () => {
      reads += 1;
      return state;
    };
    const waiting = listener.waitUntil(key, read, (s) => s !== 'PENDING', 10_000);
    await expect.poll(() => reads).toBe(1);
    state = 'PAID';
    await notifyIn(key);
    expect(await waiting).toEqual({ value: 'PAID', outcome: 'final' });
    expect(reads).toBe(2); // once before waiting, once after the notification: no polling
  });

  it('answers with the current value after the timeout', async () => {
    const started = Date.now();
    const result = await listener.waitUntil(randomUUID(), async () => 'PENDING', (s) => s !== 'PENDING', 200);
    expect(result).toEqual({ value: 'PENDING', outcome: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('releases every waiter at once when closed', async () => {
    const other = new NotificationListener({ connectionString: adminUrl, channel });
    await other.start();
    const waits = Array.from({ length: 50 }, () => other.waitUntil(randomUUID(), async () => 'PENDING', (s) => s !== 'PENDING', 60_000));
    await expect.poll(() => other.waiting).toBe(50);
    const started = Date.now();
    await other.close();
    const results = await Promise.all(waits);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(new Set(results.map((r) => r.outcome))).toEqual(new Set(['closed']));
    expect(other.waiting).toBe(0);
  });

  it('keeps listening after its connection is killed, and re-checks waiters on reconnect', async () => {
    const key = randomUUID();
    let state = 'PENDING';
    const waiting = listener.waitUntil(key, async () => state, (s) => s !== 'PENDING', 20_000);
    await expect.poll(() => listener.waiting).toBe(1);
    await writer.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`listen:${channel}`]);
    // Settled while the listener was disconnected: the notification is lost, the re-check is not.
    state = 'PAID';
    expect(await waiting).toEqual({ value: 'PAID', outcome: 'final' });
    // And it listens again.
    const again = randomUUID();
    const next = listener.arm(again).wait(10_000);
    await expect.poll(async () => {
      await notifyIn(again);
      return Promise.race([next, new Promise((resolve) => setImmediate(() => resolve('pending')))]);
    }, { timeout: 10_000 }).toBe('notified');
  });

  it('notifyWaiters notifies only while some process waits on the channel, and then wakes the waiter', async () => {
    const own = `test_${randomUUID().replace(/-/g, '')}`;
    const watching = new NotificationListener({ connectionString: adminUrl, channel: own, releaseDelayMs: 50 });
    await watching.start();
    const settler = new pg.Client({ connectionString: adminUrl });
    await settler.connect();
    const settleIn = async (key: string) => {
      await settler.query('BEGIN');
      const notified = await notifyWaiters(executorOf(settler), own, key);
      await settler.query('COMMIT');
      return notified;
    };
    try {
      expect(await settleIn(randomUUID())).toBe(false); // nobody waits: no NOTIFY, no serialised commit
      const key = randomUUID();
      let state = 'PENDING';
      const waiting = watching.waitUntil(key, async () => state, (s) => s !== 'PENDING', 10_000);
      await expect.poll(() => watching.watched && watching.waiting === 1).toBe(true);
      state = 'PAID';
      const started = Date.now();
      expect(await settleIn(key)).toBe(true);
      expect(await waiting).toEqual({ value: 'PAID', outcome: 'final' });
      expect(Date.now() - started).toBeLessThan(5_000);
      // The last waiter left: after the grace period settling transactions stop notifying.
      await expect.poll(() => settleIn(randomUUID()), { timeout: 5_000 }).toBe(false);
    } finally {
      await watching.close();
      await settler.end();
    }
  });

  it('a waiter that arrives while a non-notifying settlement is in flight still sees it', async () => {
    const own = `test_${randomUUID().replace(/-/g, '')}`;
    const watching = new NotificationListener({ connectionString: adminUrl, channel: own });
    await watching.start();
    const settler = new pg.Client({ connectionString: adminUrl });
    await settler.connect();
    try {
      const key = randomUUID();
      let committed = false;
      // The settling transaction checked (nobody waited, so it will not notify) and has not committed yet.
      await settler.query('BEGIN');
      expect(await notifyWaiters(executorOf(settler), own, key)).toBe(false);
      let reads = 0;
      const waiting = watching.waitUntil(key, async () => ((reads += 1), committed ? 'PAID' : 'PENDING'), (s) => s !== 'PENDING', 20_000);
      // The waiter does not read before that transaction is over: its slot lock waits for it.
      await expect
        .poll(async () => (await settler.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [`listen:${own}`])).rows[0].n)
        .toBe(1);
      expect(reads).toBe(0);
      committed = true;
      await settler.query('COMMIT');
      expect(await waiting).toEqual({ value: 'PAID', outcome: 'final' });
      expect(reads).toBe(1);
    } finally {
      await watching.close();
      await settler.end();
    }
  });

  it('processes beyond the slots poll instead of missing settlements', async () => {
    const own = `test_${randomUUID().replace(/-/g, '')}`;
    const holders = Array.from({ length: 16 }, () => new NotificationListener({ connectionString: adminUrl, channel: own }));
    await Promise.all(holders.map((h) => h.start()));
    const extra = new NotificationListener({ connectionString: adminUrl, channel: own, fallbackPollMs: 50 });
    await extra.start();
    try {
      let state = 'PENDING';
      let reads = 0;
      const waiting = extra.waitUntil(randomUUID(), async () => ((reads += 1), state), (s) => s !== 'PENDING', 10_000);
      await expect.poll(() => reads).toBeGreaterThan(2); // re-reads on its own
      expect(extra.watched).toBe(false);
      state = 'PAID';
      expect(await waiting).toEqual({ value: 'PAID', outcome: 'final' });
    } finally {
      await Promise.all([...holders, extra].map((h) => h.close()));
    }
  });
});
