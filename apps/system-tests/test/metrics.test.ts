import { describe, expect, it } from 'vitest';
import { deposit, newUser, placeOrder, waitForEmail, waitForFinalOrder } from './support.js';

/** Sums the samples of a metric whose labels include the given ones, from a service's /metrics. */
async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = line.match(/^([a-z_]+)(\{.*\})? (\S+)$/);
    if (!match || match[1] !== name) continue;
    const sampleLabels = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => sampleLabels.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

describe('metrics', () => {
  it('counts HTTP requests, published and consumed events and settled orders as an order flows', async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    const before = {
      http: await metric(3003, 'eventflow_http_requests_total', { route: '/orders', status: '201' }),
      published: await metric(3003, 'eventflow_events_published_total', { event_type: 'OrderPlaced' }),
      charged: await metric(3002, 'eventflow_events_consumed_total', { event_type: 'OrderPlaced', outcome: 'applied' }),
      paid: await metric(3003, 'eventflow_orders_settled_total', { status: 'PAID' }),
      mailed: await metric(3004, 'eventflow_events_consumed_total', { event_type: 'OrderPaid', outcome: 'applied' }),
    };
    const order = await placeOrder(user, 500);
    await waitForFinalOrder(user, order.id);
    await waitForEmail(user, order.id);

    expect(await metric(3003, 'eventflow_http_requests_total', { route: '/orders', status: '201' })).toBe(before.http + 1);
    expect(await metric(3003, 'eventflow_events_published_total', { event_type: 'OrderPlaced' })).toBeGreaterThanOrEqual(before.published + 1);
    expect(await metric(3002, 'eventflow_events_consumed_total', { event_type: 'OrderPlaced', outcome: 'applied' })).toBe(before.charged + 1);
    expect(await metric(3003, 'eventflow_orders_settled_total', { status: 'PAID' })).toBe(before.paid + 1);
    expect(await metric(3004, 'eventflow_events_consumed_total', { event_type: 'OrderPaid', outcome: 'applied' })).toBe(before.mailed + 1);
  });
});
