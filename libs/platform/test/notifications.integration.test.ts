import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationListener } from '../src/db/index.js';

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
    await expect.poll(() => listener.waiting).toBe(1);
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
});
