import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, dlqTopicOf, kafkaConnection, namespaced, topics as releaseTopics, type OrderPaid, type UserCreated } from '@eventflow/events';
import { eventMetadata, kafkaSettingsOf, waitFor } from '@eventflow/testing';
import { repoRoot, stackEnv } from '@eventflow/system-harness';

const run = promisify(execFile);
const stack = stackEnv();
const kafka = new Kafka({ clientId: 'system-tests-replay', ...kafkaConnection(kafkaSettingsOf('test', stack)), logLevel: logLevel.NOTHING });
const codec = new EventCodec(stack['SCHEMA_REGISTRY_URL'] ?? '');
// The system under test runs in the test namespace: its topics, never npm start's.
const topics = { orderEvents: namespaced(releaseTopics.orderEvents), userEvents: namespaced(releaseTopics.userEvents) };
const dlq = dlqTopicOf(namespaced('notification-service'));
let producer: Producer;
let notifications: pg.Client;

beforeAll(async () => {
  producer = kafka.producer();
  await producer.connect();
  notifications = new pg.Client({ connectionString: stack['NOTIFICATION_DATABASE_URL'] });
  await notifications.connect();
});
afterAll(async () => {
  await producer.disconnect();
  await notifications.end();
});

/** An OrderPaid for a user notification-service has never heard of, old enough that it waits no longer. */
async function publishOrderPaidForUnknownUser(userId: string): Promise<OrderPaid> {
  const occurredAt = Date.now() - 60 * 60 * 1000;
  const event = { metadata: eventMetadata('OrderPaid', occurredAt), orderId: randomUUID(), userId, price: 4_200, paidAt: occurredAt, balanceAfter: null } as OrderPaid;
  await producer.send({
    topic: topics.orderEvents,
    messages: [{ key: userId, value: await codec.encode('OrderPaid', event), headers: { 'event-id': event.metadata.eventId, 'event-type': 'OrderPaid' } }],
  });
  return event;
}

/** The dead letters of notification-service for one event id, with their headers. */
async function deadLettersOf(eventId: string, atLeast: number): Promise<Array<Record<string, string>>> {
  const found: Array<Record<string, string>> = [];
  const reader = kafka.consumer({ groupId: namespaced(`replay-test-${randomUUID()}`) });
  await reader.connect();
  await reader.subscribe({ topic: dlq, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      if (headers['event-id'] === eventId) found.push(headers);
    },
  });
  try {
    await waitFor(`${atLeast} dead letter(s) of event ${eventId} on ${dlq}`, async () => (found.length >= atLeast ? true : undefined), { timeoutMs: 60_000 });
  } finally {
    await reader.disconnect();
  }
  return found;
}

const replay = async (...args: string[]) => {
  const { stdout, stderr } = await run('npx', ['tsx', 'scripts/events.ts', 'replay', dlq, ...args], { cwd: repoRoot, timeout: 120_000 });
  return { lines: stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { eventId: string; action: string; attempt: string }), summary: stderr };
};

const emailsFor = async (orderId: string) =>
  (await notifications.query<{ recipient: string }>('SELECT recipient FROM messages WHERE order_id = $1', [orderId])).rows;

describe('dead-letter replay', () => {
  it('re-publishes a dead letter whose cause is gone, which then takes effect exactly once, and never twice across runs', { timeout: 240_000 }, async () => {
    const userId = randomUUID();
    const event = await publishOrderPaidForUnknownUser(userId);
    const [dead] = await deadLettersOf(event.metadata.eventId, 1);
    expect(dead).toMatchObject({ 'dlq-error-kind': 'poison', 'dlq-attempt': '1', 'dlq-original-topic': topics.orderEvents });

    // The cause goes away: the user's UserCreated arrives late.
    const created: UserCreated = { metadata: eventMetadata('UserCreated'), userId, email: `late-${userId}@example.com`, name: 'Late', createdAt: Date.now() };
    await producer.send({ topic: topics.userEvents, messages: [{ key: userId, value: await codec.encode('UserCreated', created), headers: { 'event-id': created.metadata.eventId } }] });
    await waitFor('notification-service to know the recipient', async () => {
      const { rows } = await notifications.query('SELECT 1 FROM recipients WHERE user_id = $1', [userId]);
      return rows.length > 0 ? true : undefined;
    });

    const dry = await replay('--event-id', event.metadata.eventId, '--dry-run');
    expect(dry.lines.find((l) => l.eventId === event.metadata.eventId)?.action).toBe(`would replay to ${topics.orderEvents}`);
    expect(await emailsFor(event.orderId)).toEqual([]);

    const first = await replay('--event-id', event.metadata.eventId);
    expect(first.lines.filter((l) => l.eventId === event.metadata.eventId).map((l) => l.action)).toEqual([`replayed to ${topics.orderEvents}`]);
    await waitFor('the replayed e-mail', async () => ((await emailsFor(event.orderId)).length > 0 ? true : undefined), { timeoutMs: 60_000 });

    // A second run finds the entry already replayed and publishes nothing.
    const second = await replay('--event-id', event.metadata.eventId);
    expect(second.lines.filter((l) => l.eventId === event.metadata.eventId).map((l) => l.action)).toEqual(['already replayed']);
    expect(await emailsFor(event.orderId)).toEqual([{ recipient: created.email }]);
    const { rows: inbox } = await notifications.query('SELECT 1 FROM processed_events WHERE event_id = $1', [event.metadata.eventId]);
    expect(inbox).toHaveLength(1);
  });

  it('sends a replayed message that fails again back to the dead-letter topic with its attempt count raised', { timeout: 240_000 }, async () => {
    const event = await publishOrderPaidForUnknownUser(randomUUID());
    await deadLettersOf(event.metadata.eventId, 1);
    const replayed = await replay('--event-id', event.metadata.eventId);
    expect(replayed.lines.find((l) => l.eventId === event.metadata.eventId)?.action).toBe(`replayed to ${topics.orderEvents}`);
    const letters = await deadLettersOf(event.metadata.eventId, 2);
    expect(letters.map((h) => h['dlq-attempt']).sort()).toEqual(['1', '2']);
    expect(letters.find((h) => h['dlq-attempt'] === '2')).toMatchObject({ 'dead-letter-attempt': '1', 'replayed-from': expect.stringMatching(new RegExp(`^${dlq.replaceAll('.', '\\.')}:0:\\d+$`)) });
    expect(await emailsFor(event.orderId)).toEqual([]);
  });
});
