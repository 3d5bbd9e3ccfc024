/**
 * `Prefer: wait=N` against the running system: the read answers when the order settles, after
 * the wait when it cannot, and in a replica that did not settle it. Timings are printed for the
 * record, not asserted (the limits only catch an answer that ignored the preference).
 */
import { describe, expect, it } from 'vitest';
import { ensureJwtKeys, serviceEnv, serviceSpec, stackEnv, startReadyService, startService, stopService } from '@eventflow/system-harness';
import { waitFor } from '@eventflow/testing';
import { api, deposit, newUser, placeOrder, type TestUser } from './support.js';

interface Order {
  id: string;
  status: string;
}

const record = (line: string) => process.stdout.write(`[prefer-wait] ${line}\n`);

async function waitingGet(user: TestUser, path: string, seconds: number, baseUrl?: string) {
  const started = Date.now();
  const response = baseUrl
    ? await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${user.token}`, prefer: `wait=${seconds}` } }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Order,
        headers: r.headers,
      }))
    : await api()<Order>('GET', path, { token: user.token, headers: { prefer: `wait=${seconds}` } });
  return { ...response, ms: Date.now() - started };
}

describe('Prefer: wait on the running system', () => {
  it('GET /orders/{id} answers when the order settles, well before the wait is over', async () => {
    const user = await newUser();
    await deposit(user, 10_000);
    const order = await placeOrder(user, 2_500);
    const answer = await waitingGet(user, `/orders/${order.id}`, 10);
    record(`GET /orders/{id} with wait=10 answered ${answer.body.status} after ${answer.ms} ms (placed → PAID through Kafka and billing)`);
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe('PAID');
    expect(answer.headers.get('preference-applied')).toBe('wait=10');
    expect(answer.ms).toBeLessThan(9_000);

    const email = await api()<{ total: number; items: Array<{ body: string }> }>('GET', `/notifications/messages?orderId=${order.id}`, {
      token: user.token,
      headers: { prefer: 'wait=10' },
    });
    expect(email.body.total).toBe(1);
    expect(email.body.items[0]?.body).toContain('Your balance is now 75.00.'); // OrderPaid v2's balanceAfter, end to end
  });

  it('answers PENDING_PAYMENT after the wait when billing is stopped', async () => {
    const user = await newUser();
    await deposit(user, 10_000);
    await stopService('billing-service');
    try {
      const order = await placeOrder(user, 100);
      const answer = await waitingGet(user, `/orders/${order.id}`, 2);
      record(`GET /orders/{id} with wait=2, billing stopped: ${answer.body.status} after ${answer.ms} ms`);
      expect(answer.body.status).toBe('PENDING_PAYMENT');
      expect(answer.headers.get('preference-applied')).toBe('wait=2');
      expect(answer.ms).toBeGreaterThanOrEqual(1_900);
    } finally {
      await startReadyService('billing-service');
    }
  });

  it('a replica whose consumer settles nothing learns of the settlement through PostgreSQL', async () => {
    // A second order-service whose Kafka is unreachable: it serves HTTP from the same database but
    // never consumes, so every order it reports as settled was settled by the other replica.
    const spec = serviceSpec('order-service');
    const replica = startService(spec, { ...serviceEnv(spec, stackEnv(), ensureJwtKeys()), KAFKA_BROKERS: '127.0.0.1:9' }, { instance: { name: 'http-only', port: 3013 } });
    try {
      const baseUrl = `http://127.0.0.1:${replica.spec.port}`;
      await waitFor('the HTTP-only replica to answer', async () => ((await fetch(`${baseUrl}/health/live`).catch(() => undefined))?.ok ? true : undefined), { timeoutMs: 60_000 });
      const user = await newUser();
      await deposit(user, 10_000);
      const order = await placeOrder(user, 1_000);
      const answer = await waitingGet(user, `/orders/${order.id}`, 15, baseUrl);
      record(`GET /orders/{id} with wait=15 on a replica that consumes nothing: ${answer.body.status} after ${answer.ms} ms`);
      expect(answer.body.status).toBe('PAID');
      expect(answer.headers.get('preference-applied')).toBe('wait=15');
      expect(answer.ms).toBeLessThan(14_000);
    } finally {
      await stopService(replica.id);
    }
  });
});
