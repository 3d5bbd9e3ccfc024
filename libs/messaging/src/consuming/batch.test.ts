import { randomUUID } from 'node:crypto';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { DecodedEvent, UserCreated } from '@eventflow/events';
import { PoisonMessageError, createLogger } from '@eventflow/platform';
import type { SqlExecutor, TransactionalDb } from '../sql.js';
import { applyingTogether } from './batch.js';
import type { Delivery } from './delivery.js';
import type { EventHandlers } from './handlers.js';

// The batch step on its own: the codec maps a message's value to an event prepared by the test,
// and the database is a stub that records statements and answers the inbox insert. Run on the
// stack, composed in EventConsumer: relay-and-consumer.integration.test.ts.
const logger = createLogger('batch-test', 'silent');

const userCreated = (eventId: string = randomUUID()): DecodedEvent => ({
  type: 'UserCreated',
  payload: {
    metadata: { eventId, eventType: 'UserCreated', occurredAt: Date.now(), correlationId: randomUUID(), causationId: null, producer: 'user-service' },
    userId: randomUUID(),
    email: 'a@example.com',
    name: 'A',
    createdAt: Date.now(),
  } as UserCreated,
});

/** Deliveries whose values are indexes into `events`; the codec decodes them back. */
function run(events: Array<DecodedEvent | 'garbage'>) {
  const deliveries: Delivery[] = events.map((_, i) => ({
    topic: 'user-events',
    partition: 0,
    message: { key: null, value: Buffer.from(String(i)), offset: String(i), timestamp: '0', attributes: 0, headers: {} } as KafkaMessage,
    headers: {},
    heartbeat: async () => undefined,
    logger,
  }));
  const codec = {
    decode: async (value: Buffer | null) => {
      const event = events[Number(value?.toString())];
      if (!event || event === 'garbage') throw new PoisonMessageError('not a Confluent-framed Avro message');
      return event;
    },
  };
  return { deliveries, codec };
}

/** A transaction stub: ids in `seen` are already in the inbox; records what was asked and whether it committed. */
function stubDb(seen: string[] = []) {
  const inbox = new Set(seen);
  const log = { transactions: 0, committed: 0, inserted: [] as string[][] };
  const tx: SqlExecutor = {
    $queryRawUnsafe: async <T>(_query: string, ...values: unknown[]) => {
      const ids = values[1] as string[];
      log.inserted.push(ids);
      const fresh = [...new Set(ids)].filter((id) => !inbox.has(id));
      return fresh.map((event_id) => ({ event_id })) as T;
    },
    $executeRawUnsafe: async () => 0,
  };
  const db: TransactionalDb<SqlExecutor> = {
    $transaction: async (fn) => {
      log.transactions += 1;
      const result = await fn(tx);
      log.committed += 1;
      return result;
    },
  };
  return { db, log };
}

describe('applyingTogether', () => {
  it('applies the new events of a run in offset order in one transaction; a repeated or recorded id is a duplicate, an unhandled type ignored', async () => {
    const [a, b, c] = [userCreated(), userCreated(), userCreated()];
    const recorded = userCreated();
    const other: DecodedEvent = { ...userCreated(), type: 'OrderPaid' } as DecodedEvent;
    const { deliveries, codec } = run([a, b, a, other, recorded, c]);
    const { db, log } = stubDb([recorded.payload.metadata.eventId]);
    const handled: string[] = [];
    const handlers: EventHandlers<SqlExecutor> = { UserCreated: async (event) => void handled.push(event.metadata.eventId) };
    let commits = 0;
    const outcomes = await applyingTogether({ codec, handlers, db, consumer: 'g', producer: 'p', logger, onCommitted: () => (commits += 1) })(deliveries);

    expect(outcomes).toEqual(['applied', 'applied', 'duplicate', 'ignored', 'duplicate', 'applied']);
    expect(handled).toEqual([a, b, c].map((e) => e.payload.metadata.eventId));
    expect(log).toMatchObject({ transactions: 1, committed: 1 });
    // One inbox insert for the handled events only.
    expect(log.inserted).toEqual([[a, b, a, recorded, c].map((e) => e.payload.metadata.eventId)]);
    expect(commits).toBe(1);
  });

  it('hands a run back untouched (undefined) when a value does not decode or an event id is not a UUID, without opening a transaction', async () => {
    const handlers: EventHandlers<SqlExecutor> = { UserCreated: async () => undefined };
    for (const events of [[userCreated(), 'garbage' as const, userCreated()], [userCreated(), userCreated('not-a-uuid')]]) {
      const { deliveries, codec } = run(events);
      const { db, log } = stubDb();
      expect(await applyingTogether({ codec, handlers, db, consumer: 'g', producer: 'p', logger })(deliveries)).toBeUndefined();
      expect(log.transactions).toBe(0);
    }
  });

  it('hands a run back (undefined) when a handler fails: nothing committed, onCommitted not called', async () => {
    const [a, b] = [userCreated(), userCreated()];
    const { deliveries, codec } = run([a, b]);
    const { db, log } = stubDb();
    const handlers: EventHandlers<SqlExecutor> = {
      UserCreated: async (event) => {
        if (event.metadata.eventId === b.payload.metadata.eventId) throw new Error('check constraint');
      },
    };
    let commits = 0;
    expect(await applyingTogether({ codec, handlers, db, consumer: 'g', producer: 'p', logger, onCommitted: () => (commits += 1) })(deliveries)).toBeUndefined();
    expect(log).toMatchObject({ transactions: 1, committed: 0 });
    expect(commits).toBe(0);
  });

  it('does not open a transaction for a run of events the consumer has no handler for', async () => {
    const { deliveries, codec } = run([userCreated(), userCreated()]);
    const { db, log } = stubDb();
    expect(await applyingTogether({ codec, handlers: {}, db, consumer: 'g', producer: 'p', logger })(deliveries)).toEqual(['ignored', 'ignored']);
    expect(log.transactions).toBe(0);
  });
});
