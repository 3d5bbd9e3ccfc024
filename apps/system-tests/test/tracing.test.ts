import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@eventflow/testing';
import { stateDir } from '@eventflow/system-harness';
import { api, deposit, newUser, waitForEmail, waitForFinalOrder } from './support.js';

/** A service's log lines (JSON, one per line) about one entity, e.g. field orderId = the order's id. */
function logLines(service: string, field: 'orderId' | 'userId', id: string): Array<{ traceId?: string; msg: string }> {
  return readFileSync(join(stateDir, 'logs', `${service}.log`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(id))
    .map((line) => JSON.parse(line) as { traceId?: string; msg: string } & Record<string, unknown>)
    .filter((line) => line[field] === id);
}

/** Waits until each service has logged about the entity, then expects every such line in the trace. */
async function expectOneTrace(services: string[], field: 'orderId' | 'userId', id: string, traceId: string): Promise<void> {
  for (const service of services) {
    const lines = await waitFor(`${service} to log about ${field} ${id}`, async () => {
      const found = logLines(service, field, id);
      return found.length > 0 ? found : undefined;
    });
    expect(lines.map((l) => l.traceId), service).toEqual(lines.map(() => traceId));
  }
}

const newTraceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
};

describe('tracing', () => {
  it("continues the caller's W3C trace through the outbox and Kafka into every service the order touches", async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    const { traceId, traceparent } = newTraceparent();
    const placed = await api()<{ id: string }>('POST', '/orders', { token: user.token, body: { price: 300 }, headers: { traceparent } });
    expect(placed.status).toBe(201);
    const orderId = placed.body.id;
    await waitForFinalOrder(user, orderId);
    await waitForEmail(user, orderId);

    // Each of these services logs a line about the order while handling it.
    await expectOneTrace(['order-service', 'billing-service', 'notification-service'], 'orderId', orderId, traceId);
  });

  it("continues the caller's trace from a registration in user-service into billing and notification", async () => {
    const { traceId, traceparent } = newTraceparent();
    const email = `trace-${randomUUID()}@example.com`;
    const created = await api()<{ id: string }>('POST', '/users', {
      body: { email, password: 'correct horse battery', name: 'Trace Test' },
      headers: { traceparent },
    });
    expect(created.status).toBe(201);
    await expectOneTrace(['user-service', 'billing-service', 'notification-service'], 'userId', created.body.id, traceId);
  });
});
