import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, dlqTopicOf, kafkaConnection, namespaced, topics, type OrderPlaced } from '@eventflow/events';
import { kafkaSettingsOf, waitFor } from '@eventflow/testing';
import { stackEnv } from '@eventflow/system-harness';
import { api, balanceOf, deposit, messagesAbout, newUser, placeOrder, waitForEmail, waitForFinalOrder, type TestUser } from './support.js';

const stack = stackEnv();
// The test principal may read and write everything under the test namespace the system runs in.
const kafka = new Kafka({ clientId: 'system-tests', ...kafkaConnection(kafkaSettingsOf('test', stack)), logLevel: logLevel.NOTHING });
const codec = new EventCodec(stack['SCHEMA_REGISTRY_URL'] ?? '');
let producer: Producer;

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
});
afterAll(async () => {
  await producer.disconnect();
});

async function query<T>(databaseUrlVar: string, sql: string, values: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: stack[databaseUrlVar] });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * Places an order and waits for its e-mail. Orders are keyed by user id, so once this later
 * order is settled, every message written earlier to the user's partition was processed too.
 */
async function settleMarkerOrder(user: TestUser, price: number) {
  const marker = await placeOrder(user, price);
  await waitForFinalOrder(user, marker.id);
  await waitForEmail(user, marker.id);
  return marker;
}

describe('consistency under concurrency, redelivery and poison messages', () => {
  it('never overdraws an account under many concurrent orders and withdrawals, and settles each order once', async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    const call = api();
    const [orders, withdrawals] = await Promise.all([
      Promise.all(Array.from({ length: 25 }, () => placeOrder(user, 100))),
      Promise.all(
        Array.from({ length: 10 }, () =>
          call('POST', '/billing/accounts/me/withdrawals', { token: user.token, body: { amount: 100 }, headers: { 'idempotency-key': randomUUID() } }),
        ),
      ),
    ]);
    expect(withdrawals.every((w) => w.status === 201 || w.status === 409)).toBe(true);

    const settled = await Promise.all(orders.map((order) => waitForFinalOrder(user, order.id, 60_000)));
    const paid = settled.filter((o) => o.status === 'PAID').length;
    const withdrawn = withdrawals.filter((w) => w.status === 201).length;
    // 35 attempts of 100 on a balance of 1000: exactly ten succeed, and the rest see no money.
    expect(paid + withdrawn).toBe(10);
    expect(await balanceOf(user)).toBe(0);
    expect(settled.filter((o) => o.status === 'PAYMENT_FAILED').every((o) => o.failureReason === 'INSUFFICIENT_FUNDS')).toBe(true);

    for (const order of settled) {
      const emails = await waitForEmail(user, order.id);
      expect(emails).toHaveLength(1);
      expect(emails[0]?.kind).toBe(order.status === 'PAID' ? 'ORDER_PAID' : 'ORDER_PAYMENT_FAILED');
    }
  });

  it('applies an OrderPlaced delivered twice, or re-sent with a new event id, only once', async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    const order = await placeOrder(user, 300);
    await waitForFinalOrder(user, order.id);
    await waitForEmail(user, order.id);

    const [row] = await query<{ payload: OrderPlaced }>(
      'ORDER_DATABASE_URL',
      `SELECT payload FROM outbox_events WHERE event_type = 'OrderPlaced' AND payload->>'orderId' = $1`,
      [order.id],
    );
    expect(row).toBeDefined();
    const original = row!.payload;
    const sameEvent = await codec.encode('OrderPlaced', original);
    const newEventId = await codec.encode('OrderPlaced', { ...original, metadata: { ...original.metadata, eventId: randomUUID() } });
    await producer.send({ topic: namespaced(topics.orderEvents), messages: [sameEvent, sameEvent, newEventId].map((value) => ({ key: user.id, value })) });

    await settleMarkerOrder(user, 100);
    expect(await balanceOf(user)).toBe(600); // 1000 - 300 - 100: the redeliveries charged nothing
    const payments = await query<{ count: string }>('BILLING_DATABASE_URL', 'SELECT count(*) FROM payments WHERE order_id = $1', [order.id]);
    expect(payments[0]?.count).toBe('1');
    expect(await messagesAbout(user, order.id)).toHaveLength(1);
  });

  it('sends a poison message to the dead-letter topics and keeps processing later messages', async () => {
    const user = await newUser();
    await deposit(user, 500);
    const poisonKey = `${user.id}`;
    const marker = `poison-${randomUUID()}`;
    // The test namespace's topic (the system under test runs in it), never npm start's.
    await producer.send({
      topic: namespaced(topics.orderEvents),
      messages: [{ key: poisonKey, value: Buffer.from('this is not Avro'), headers: { 'test-marker': marker } }],
    });

    const order = await settleMarkerOrder(user, 200);
    expect((await waitForFinalOrder(user, order.id)).status).toBe('PAID');
    expect(await balanceOf(user)).toBe(300);

    for (const group of [namespaced('billing-service'), namespaced('notification-service')]) {
      const consumer = kafka.consumer({ groupId: namespaced(`system-tests-${randomUUID()}`) });
      const found: Array<Record<string, string>> = [];
      await consumer.connect();
      await consumer.subscribe({ topic: dlqTopicOf(group), fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
          if (headers['test-marker'] === marker) found.push(headers);
        },
      });
      try {
        const headers = await waitFor(`the poison message in ${dlqTopicOf(group)}`, async () => found[0]);
        expect(headers).toMatchObject({ 'dlq-error-kind': 'poison', 'dlq-original-topic': namespaced(topics.orderEvents), 'dlq-consumer-group': group });
        expect(headers['dlq-error']).toMatch(/Avro/);
      } finally {
        await consumer.disconnect();
      }
    }
  });
});
