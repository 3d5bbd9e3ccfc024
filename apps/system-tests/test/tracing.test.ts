import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@eventflow/testing';
import { stateDir } from '../../../scripts/lib/system.js';
import { api, deposit, newUser, waitForEmail, waitForFinalOrder } from './support.js';

/** A service's log lines (JSON, one per line) written while handling the order. */
function logLines(service: string, orderId: string): Array<{ traceId?: string; msg: string }> {
  return readFileSync(join(stateDir, 'logs', `${service}.log`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes(orderId))
    .map((line) => JSON.parse(line) as { traceId?: string; msg: string; orderId?: string })
    .filter((line) => line.orderId === orderId);
}

describe('tracing', () => {
  it("continues the caller's W3C trace through the outbox and Kafka into every service the order touches", async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const placed = await api()<{ id: string }>('POST', '/orders', { token: user.token, body: { price: 300 }, headers: { traceparent } });
    expect(placed.status).toBe(201);
    const orderId = placed.body.id;
    await waitForFinalOrder(user, orderId);
    await waitForEmail(user, orderId);

    // Each of these services logs a line about the order while handling it.
    for (const service of ['billing-service', 'order-service', 'notification-service']) {
      const lines = await waitFor(`${service} to log about order ${orderId}`, async () => {
        const found = logLines(service, orderId);
        return found.length > 0 ? found : undefined;
      });
      expect(lines.map((l) => l.traceId), service).toEqual(lines.map(() => traceId));
    }
  });
});
