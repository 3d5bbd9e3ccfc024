import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventCodec, dlqTopicOf, kafkaConnection, namespaced, type UserCreated } from '@eventflow/events';
import { RetryableError, createLogger } from '@eventflow/platform';
import { kafkaSettingsOf, stackSettings, waitFor } from '@eventflow/testing';
import {
  EventConsumer,
  OutboxRelay,
  appendToOutbox,
  classifyFailure,
  outboxRow,
  pruneMessagingTables,
  type EventHandlers,
  type RetryPolicy,
  type SqlExecutor,
  type TransactionalDb,
} from '../src/index.js';
import { inboxTable, outboxTable } from '../src/schema.js';

// Real Kafka, registry and PostgreSQL; a scratch database holds the two tables the library owns.
const settings = stackSettings();
const adminUrl = process.env['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres';
const dbName = `messaging_test_${randomUUID().replaceAll('-', '')}`;
const logger = createLogger('messaging-test', 'silent');
const kafka = new Kafka({ clientId: 'messaging-test', ...kafkaConnection(kafkaSettingsOf('test')), logLevel: logLevel.NOTHING });
const codec = new EventCodec(settings.schemaRegistryUrl);
let pool: pg.Pool;
let admin: Admin;

/** The TransactionalDb contract over plain pg, as Prisma provides it in the services. */
const executor = (client: pg.PoolClient): SqlExecutor => ({
  $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => (await client.query(query, values)).rows as T,
  $executeRawUnsafe: async (query: string, ...values: unknown[]) => (await client.query(query, values)).rowCount ?? 0,
});
const db: TransactionalDb<SqlExecutor> = {
  async $transaction(fn) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(executor(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  },
};

const userCreated = (userId = randomUUID()) =>
  outboxRow('UserCreated', { userId, email: `${userId}@example.com`, name: 'Test', createdAt: Date.now() }, { producer: 'test', correlationId: 'c' });

/**
 * Scratch topics live in the test namespace (`test.`, see vitest.config.ts) and are deleted at the
 * end. The library applies the namespace itself (EventConsumer, outboxRow), so a consumer is given
 * the bare name and a raw client the namespaced one.
 */
const scratchTopics: string[] = [];
async function createScratchTopic(bare: string): Promise<string> {
  const topic = namespaced(bare);
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  scratchTopics.push(topic);
  return bare;
}
const newTopic = () => createScratchTopic(`messaging-${randomUUID()}`);

/** A consumer of a new scratch topic on this test's database, its dead-letter topic created. */
async function scratchConsumer(prefix: string, retry: Partial<RetryPolicy>, handlers: EventHandlers<SqlExecutor>) {
  const topic = await newTopic();
  const groupId = `${prefix}-${randomUUID()}`;
  await createScratchTopic(dlqTopicOf(groupId));
  return { topic, groupId, consumer: new EventConsumer<SqlExecutor>({ kafka, groupId, topics: [topic], codec, db, logger, retry, handlers }) };
}

beforeAll(async () => {
  const root = new pg.Client({ connectionString: adminUrl });
  await root.connect();
  await root.query(`CREATE DATABASE ${dbName}`);
  await root.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  pool = new pg.Pool({ connectionString: url.toString(), max: 10 });
  // The library's own definition of its tables, exactly what every service's migrations build.
  for (const owned of [outboxTable, inboxTable]) await pool.query(readFileSync(owned.sqlPath, 'utf8'));
  await pool.query('CREATE TABLE effects (event_id UUID NOT NULL, attempt INT NOT NULL)');
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  if (scratchTopics.length > 0) await admin?.deleteTopics({ topics: scratchTopics }).catch(() => undefined);
  await admin?.disconnect();
  await pool?.end();
  const root = new pg.Client({ connectionString: adminUrl });
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await root.end();
});

describe('OutboxRelay', () => {
  it('publishes pending rows in order, once, even with two relays racing', async () => {
    const topic = await newTopic();
    const rows = Array.from({ length: 25 }, () => ({ ...userCreated('00000000-0000-4000-8000-000000000001'), topic: namespaced(topic) }));
    await db.$transaction((tx) => appendToOutbox(tx, ...rows));

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const options = { pollIntervalMs: 20, batchSize: 10, lockKey: 4242 };
    const relays = [new OutboxRelay(db, producer, codec, logger, options), new OutboxRelay(db, producer, codec, logger, options)];
    relays.forEach((r) => r.start());
    await waitFor('the outbox to drain', async () => {
      const { rows: left } = await pool.query('SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL');
      return left[0].n === 0 ? true : undefined;
    });
    await Promise.all(relays.map((r) => r.stop()));
    await producer.disconnect();
    // Exactly 25 messages reached the topic: neither relay published a row the other had.
    const [end] = await admin.fetchTopicOffsets(namespaced(topic));
    expect(Number(end?.high)).toBe(25);

    const seen: string[] = [];
    const consumer = kafka.consumer({ groupId: namespaced(`relay-check-${randomUUID()}`) });
    await consumer.connect();
    await consumer.subscribe({ topic: namespaced(topic), fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.headers?.['event-id']?.toString() ?? '') });
    await waitFor('all 25 events on the topic', async () => (seen.length >= 25 ? true : undefined));
    await consumer.disconnect();
    expect(seen).toEqual(rows.map((r) => r.eventId));
  });

  it('a nudge that arrives while a batch is being published is not lost: the next batch starts at once, not at the next poll', async () => {
    const topic = await newTopic();
    const first = { ...userCreated(), topic: namespaced(topic) };
    const second = { ...userCreated(), topic: namespaced(topic) };
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // The real producer, held at the door of its first send so the test can commit and nudge
    // while that batch is in flight.
    let sending!: () => void;
    const firstSendStarted = new Promise<void>((resolve) => (sending = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const gated = Object.create(producer) as Producer;
    gated.sendBatch = async (batch) => {
      sending();
      await released;
      return producer.sendBatch(batch);
    };
    // A poll interval far beyond the wait below: only a nudge can make the relay look again.
    const relay = new OutboxRelay(db, gated, codec, logger, { pollIntervalMs: 30_000, batchSize: 10, lockKey: 4243 });
    const published = async (eventId: string) => {
      const { rows } = await pool.query('SELECT published_at FROM outbox_events WHERE event_id = $1', [eventId]);
      return rows[0]?.published_at ? true : undefined;
    };
    await db.$transaction((tx) => appendToOutbox(tx, first));
    try {
      // The relay's first batch takes `first` and stops at the gate.
      relay.start();
      await firstSendStarted;
      await db.$transaction((tx) => appendToOutbox(tx, second));
      relay.nudge();
      release();
      await waitFor('the first event to be published', () => published(first.eventId), { timeoutMs: 5_000, intervalMs: 20 });
      await waitFor('the event committed during the first batch to be published without waiting for the 30 s poll', () => published(second.eventId), {
        timeoutMs: 5_000,
        intervalMs: 20,
      });
    } finally {
      release();
      await relay.stop();
      await producer.disconnect();
    }
    const [end] = await admin.fetchTopicOffsets(namespaced(topic));
    expect(Number(end?.high)).toBe(2);
  });
});

describe('EventConsumer', () => {
  it('applies each event once, retries what may pass, and dead-letters poison and exhausted failures while carrying on', async () => {
    const failuresLeft = new Map<string, number>();
    const broken = userCreated();
    const { topic, groupId, consumer } = await scratchConsumer('consumer-test', { maxAttempts: 5, initialDelayMs: 10, maxDelayMs: 50 }, {
      UserCreated: async (event: UserCreated, { tx, attempt }) => {
        if (event.userId === broken.key) throw new Error('a bug: this handler always fails');
        const left = failuresLeft.get(event.userId) ?? 0;
        if (left > 0) {
          failuresLeft.set(event.userId, left - 1);
          throw new RetryableError('not yet');
        }
        await tx.$executeRawUnsafe('INSERT INTO effects (event_id, attempt) VALUES ($1::uuid, $2)', event.metadata.eventId, attempt);
      },
    });
    await consumer.start();
    try {
      const once = userCreated();
      const flaky = userCreated();
      failuresLeft.set(flaky.key, 2);
      // RetryableError is retried past maxAttempts: the handler decides when to stop waiting.
      const patient = userCreated();
      failuresLeft.set(patient.key, 7);
      const last = userCreated();
      const encode = async (row: ReturnType<typeof userCreated>) => ({ key: row.key, value: await codec.encode('UserCreated', row.payload as UserCreated) });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic: namespaced(topic),
        messages: [
          await encode(once),
          await encode(once),
          await encode(flaky),
          { key: 'x', value: Buffer.from('garbage') },
          await encode(patient),
          await encode(broken),
          await encode(last),
        ],
      });
      await producer.disconnect();

      await waitFor('the last event to be applied', async () => {
        const { rows } = await pool.query('SELECT 1 FROM effects WHERE event_id = $1', [last.eventId]);
        return rows.length > 0 ? true : undefined;
      });
      const { rows } = await pool.query<{ event_id: string; attempt: number }>('SELECT event_id, attempt FROM effects');
      const byEvent = (id: string) => rows.filter((r) => r.event_id === id);
      expect(byEvent(once.eventId)).toHaveLength(1);
      expect(byEvent(flaky.eventId)).toEqual([{ event_id: flaky.eventId, attempt: 3 }]);
      expect(byEvent(patient.eventId)).toEqual([{ event_id: patient.eventId, attempt: 8 }]);
      expect(byEvent(broken.eventId)).toEqual([]);
      // Four events applied (the duplicate recorded once), none of the two that failed.
      expect(await processedBy(groupId)).toEqual([once, flaky, patient, last].map((row) => row.eventId).sort());
      // The garbage as poison at once, the always-failing handler after its five attempts.
      const dead = await readTopic(namespaced(dlqTopicOf(groupId)), 2);
      expect(dead.map((d) => [d.key, d.headers['dlq-error-kind']])).toEqual([
        ['x', 'poison'],
        [broken.key, 'retries-exhausted'],
      ]);
    } finally {
      await consumer.stop();
    }
  });
});

/** The event ids the inbox recorded for a consumer group (as Kafka knows it), sorted. */
async function processedBy(groupId: string): Promise<string[]> {
  const { rows } = await pool.query<{ event_id: string }>('SELECT event_id FROM processed_events WHERE consumer = $1 ORDER BY event_id', [namespaced(groupId)]);
  return rows.map((r) => r.event_id);
}

/** Reads a topic from the beginning until `count` messages have arrived. */
async function readTopic(topic: string, count: number): Promise<Array<{ key: string | null; headers: Record<string, string> }>> {
  const seen: Array<{ key: string | null; headers: Record<string, string> }> = [];
  const reader = kafka.consumer({ groupId: namespaced(`reader-${randomUUID()}`) });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) =>
      void seen.push({
        key: message.key?.toString() ?? null,
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      }),
  });
  try {
    await waitFor(`${count} message(s) on ${topic}`, async () => (seen.length >= count ? true : undefined));
  } finally {
    await reader.disconnect();
  }
  return seen;
}

describe('EventConsumer with invalid fields', () => {
  it('dead-letters an event the database refuses as data at once, retries a serialization failure past maxAttempts, and keeps the partition flowing', async () => {
    const attempts = new Map<string, number>();
    // One attempt for unclassified errors: a transient failure is retried regardless.
    const { topic, groupId, consumer } = await scratchConsumer('consumer-poison', { maxAttempts: 1, initialDelayMs: 10, maxDelayMs: 50 }, {
      UserCreated: async (event: UserCreated, { tx, attempt }) => {
        attempts.set(event.metadata.eventId, attempt);
        if (event.name === 'serialization' && attempt < 3) {
          await tx.$executeRawUnsafe(`DO $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001'; END $$`);
        }
        // The user id is cast by the database, as the services' handlers do: 'not-a-uuid' is 22P02.
        await tx.$executeRawUnsafe('INSERT INTO effects (event_id, attempt) VALUES ($1::uuid, $2)', event.userId, attempt);
      },
    });
    await consumer.start();
    try {
      const poison = userCreated();
      (poison.payload as { userId: string }).userId = 'not-a-uuid';
      const serialization = userCreated();
      (serialization.payload as { name: string }).name = 'serialization';
      const after = userCreated();
      const encode = async (row: ReturnType<typeof userCreated>) => ({
        key: row.key,
        value: await codec.encode('UserCreated', row.payload as UserCreated),
        headers: { 'event-id': row.eventId },
      });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({ topic: namespaced(topic), messages: [await encode(poison), await encode(serialization), await encode(after)] });
      await producer.disconnect();

      await waitFor('the event after the poison one to be applied', async () => {
        const { rows } = await pool.query('SELECT 1 FROM effects WHERE event_id = $1', [after.key]);
        return rows.length > 0 ? true : undefined;
      });
      expect(attempts.get(poison.eventId)).toBe(1);
      expect(attempts.get(serialization.eventId)).toBe(3);
      expect(await processedBy(groupId)).toEqual([serialization.eventId, after.eventId].sort());
      const letters = await readTopic(namespaced(dlqTopicOf(groupId)), 1);
      expect(letters).toHaveLength(1);
      const [dead] = letters;
      expect(dead?.headers).toMatchObject({ 'event-id': poison.eventId, 'dlq-error-kind': 'poison', 'dlq-attempt': '1', 'dlq-original-topic': namespaced(topic) });
      expect(dead?.headers['dlq-error']).toMatch(/SQLSTATE 22P02/);
    } finally {
      await consumer.stop();
    }
  });
});

describe('EventConsumer applying a partition\'s waiting events together', () => {
  it('applies a run in shared transactions, each event once and in offset order, and one by one around a poison event', async () => {
    const table = `batch_effects_${randomUUID().replaceAll('-', '')}`;
    // applied: the order in which the handler ran; tx: the transaction it ran in.
    await pool.query(`CREATE TABLE ${table} (applied BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL, user_id UUID NOT NULL, tx BIGINT NOT NULL)`);
    const { topic, groupId, consumer } = await scratchConsumer('consumer-batch', { maxAttempts: 1, initialDelayMs: 10, maxDelayMs: 50 }, {
      UserCreated: async (event: UserCreated, { tx }) => {
        // The user id is cast by the database: 'not-a-uuid' is SQLSTATE 22P02, poison.
        await tx.$executeRawUnsafe(`INSERT INTO ${table} (event_id, user_id, tx) VALUES ($1::uuid, $2::uuid, txid_current())`, event.metadata.eventId, event.userId);
      },
    });
    const encode = async (row: ReturnType<typeof userCreated>) => ({ key: 'one-user', value: await codec.encode('UserCreated', row.payload as UserCreated), headers: { 'event-id': row.eventId } });
    const applied = async () => (await pool.query<{ event_id: string; tx: string }>(`SELECT event_id, tx FROM ${table} ORDER BY applied`)).rows;
    const producer = kafka.producer();
    await producer.connect();
    try {
      // Published before the consumer joins, so its first fetch holds them all; the fifth twice.
      const first = Array.from({ length: 20 }, () => userCreated());
      await producer.send({ topic: namespaced(topic), messages: await Promise.all([...first.slice(0, 5), first[4]!, ...first.slice(5)].map(encode)) });
      await consumer.start();
      await waitFor('the first 20 events to be applied', async () => ((await applied()).length >= 20 ? true : undefined));
      const firstApplied = await applied();
      expect(firstApplied.map((r) => r.event_id)).toEqual(first.map((row) => row.eventId));
      // Applied one transaction per event, they would be 20; in runs, a few.
      expect(new Set(firstApplied.map((r) => r.tx)).size).toBeLessThanOrEqual(5);

      const poison = userCreated();
      (poison.payload as { userId: string }).userId = 'not-a-uuid';
      const second = Array.from({ length: 6 }, () => userCreated());
      await producer.send({ topic: namespaced(topic), messages: await Promise.all([...second.slice(0, 3), poison, ...second.slice(3)].map(encode)) });
      await waitFor('the events after the poison one to be applied', async () => ((await applied()).length >= 26 ? true : undefined));
      const letters = await readTopic(namespaced(dlqTopicOf(groupId)), 1);
      expect(letters.map((l) => [l.headers['event-id'], l.headers['dlq-error-kind']])).toEqual([[poison.eventId, 'poison']]);
      expect((await applied()).map((r) => r.event_id)).toEqual([...first, ...second].map((row) => row.eventId));
      expect(await processedBy(groupId)).toEqual([...first, ...second].map((row) => row.eventId).sort());
      // Caught up, the group commits at once, not at the next message's interval check: its
      // committed offsets are what admission control reads as backlog (kafkajs's next empty fetch
      // would take 5 s). 21 + 7 messages: the next offset to read is 28.
      await waitFor(
        'the group to commit the offset after the last message',
        async () => {
          const [committed] = await admin.fetchOffsets({ groupId: namespaced(groupId), topics: [namespaced(topic)] });
          return committed?.partitions[0]?.offset === '28' ? true : undefined;
        },
        { timeoutMs: 3_000 },
      );
    } finally {
      await producer.disconnect();
      await consumer.stop();
    }
  });
});

describe('classifyFailure on errors PostgreSQL really raises', () => {
  const failureOf = async (sql: string, values: unknown[] = []) => {
    try {
      await pool.query(sql, values);
    } catch (error) {
      return classifyFailure(error);
    }
    throw new Error(`expected ${sql} to fail`);
  };

  it('data exceptions and not-null or check violations are poison', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS constrained (id UUID NOT NULL, amount BIGINT NOT NULL CHECK (amount > 0))');
    expect(await failureOf('SELECT $1::uuid', ['not-a-uuid'])).toEqual({ kind: 'poison', reason: 'SQLSTATE 22P02' });
    expect(await failureOf('SELECT 9223372036854775807::bigint + 1')).toEqual({ kind: 'poison', reason: 'SQLSTATE 22003' });
    expect(await failureOf('INSERT INTO constrained (id, amount) VALUES (NULL, 1)')).toEqual({ kind: 'poison', reason: 'SQLSTATE 23502' });
    expect(await failureOf('INSERT INTO constrained (id, amount) VALUES (gen_random_uuid(), -5)')).toEqual({ kind: 'poison', reason: 'SQLSTATE 23514' });
  });

  it('a deadlock and a terminated connection are transient', async () => {
    await pool.query('CREATE TABLE IF NOT EXISTS lockable (id INT PRIMARY KEY); INSERT INTO lockable VALUES (1), (2) ON CONFLICT DO NOTHING');
    const [a, b] = [await pool.connect(), await pool.connect()];
    try {
      await a.query('BEGIN');
      await b.query('BEGIN');
      await a.query('SELECT * FROM lockable WHERE id = 1 FOR UPDATE');
      await b.query('SELECT * FROM lockable WHERE id = 2 FOR UPDATE');
      const outcomes = await Promise.allSettled([a.query('SELECT * FROM lockable WHERE id = 2 FOR UPDATE'), b.query('SELECT * FROM lockable WHERE id = 1 FOR UPDATE')]);
      const deadlock = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult | undefined;
      expect(classifyFailure(deadlock?.reason)).toEqual({ kind: 'transient', reason: 'SQLSTATE 40P01' });
    } finally {
      await a.query('ROLLBACK');
      await b.query('ROLLBACK');
      a.release();
      b.release();
    }
    const victim = await pool.connect();
    const pid = (await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    victim.on('error', () => undefined);
    const terminated = victim.query('SELECT pg_sleep(10)').then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitFor('the sleeping query to be visible', async () => {
      const { rows } = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`, [pid]);
      return rows.length > 0 ? true : undefined;
    });
    await pool.query('SELECT pg_terminate_backend($1)', [pid]);
    expect(classifyFailure(await terminated).kind).toBe('transient');
    victim.release(true);
  });
});

describe('pruneMessagingTables', () => {
  it('deletes published outbox rows and processed ids past retention, and nothing still needed', async () => {
    const old = userCreated();
    const recent = userCreated();
    const unpublished = userCreated();
    await db.$transaction((tx) => appendToOutbox(tx, old, recent, unpublished));
    await pool.query(`UPDATE outbox_events SET published_at = now() - interval '8 days', created_at = now() - interval '8 days' WHERE event_id = $1`, [old.eventId]);
    await pool.query(`UPDATE outbox_events SET published_at = now() WHERE event_id = $1`, [recent.eventId]);
    await pool.query(`UPDATE outbox_events SET created_at = now() - interval '30 days' WHERE event_id = $1`, [unpublished.eventId]);
    const [oldId, newId] = [randomUUID(), randomUUID()];
    await pool.query(`INSERT INTO processed_events (consumer, event_id, event_type, processed_at) VALUES ('g', $1, 'X', now() - interval '15 days'), ('g', $2, 'X', now())`, [oldId, newId]);

    const removed = await pruneMessagingTables(db, { outbox: true, inbox: true });
    expect(removed.outbox).toBeGreaterThanOrEqual(1);
    expect(removed.inbox).toBe(1);
    const left = await pool.query<{ event_id: string }>('SELECT event_id FROM outbox_events WHERE event_id = ANY($1::uuid[])', [[old.eventId, recent.eventId, unpublished.eventId]]);
    expect(left.rows.map((r) => r.event_id).sort()).toEqual([recent.eventId, unpublished.eventId].sort());
    const inbox = await pool.query<{ event_id: string }>('SELECT event_id FROM processed_events WHERE event_id = ANY($1::uuid[])', [[oldId, newId]]);
    expect(inbox.rows.map((r) => r.event_id)).toEqual([newId]);
  });
});
