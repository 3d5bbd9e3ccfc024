import { randomUUID } from 'node:crypto';
import type { KafkaMessage, ProducerRecord } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DecodedEvent, EventMetadata, UserCreated } from '@eventflow/events';
import { dlqTopicOf } from '@eventflow/events';
import { PoisonMessageError, RetryableError, createLogger } from '@eventflow/platform';
import { eventsConsumed } from '../metrics.js';
import type { SqlExecutor, TransactionalDb } from '../sql.js';
import { decoding } from './decode.js';
import { deadLettering } from './dead-letter.js';
import { AbandonedMessage, RetriesExhausted, type Delivery, type ReceivedEvent } from './delivery.js';
import { dispatching, type HandledEvent, type HandlerContext } from './handlers.js';
import { inbox } from './inbox.js';
import { keepingAlive, observed } from './observe.js';
import { retryWithBackoff, type RetryPolicy } from './retry.js';

// Each policy of the consumer's pipeline on its own, with a stub for the next step: no Kafka,
// registry or database (relay-and-consumer.integration.test.ts runs them composed on the stack).
const logger = createLogger('policy-test', 'silent');
const policy: RetryPolicy = { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 25 };
const noWait = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};
const transient = () => Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });

const message = (headers: Record<string, string> = {}): KafkaMessage => ({
  key: Buffer.from('user-1'),
  value: Buffer.from('bytes'),
  offset: '42',
  timestamp: '0',
  attributes: 0,
  headers,
});
const delivery = (overrides: Partial<Delivery> = {}): Delivery => ({
  topic: 'user-events',
  partition: 3,
  message: message(),
  headers: { 'event-type': 'UserCreated' },
  heartbeat: async () => undefined,
  logger,
  ...overrides,
});
const metadataOf = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  eventId: randomUUID(),
  eventType: 'UserCreated',
  occurredAt: Date.now(),
  correlationId: randomUUID(),
  causationId: null,
  producer: 'user-service',
  ...overrides,
});
const userCreated = (metadata = metadataOf()): UserCreated => ({ metadata, userId: randomUUID(), email: 'a@example.com', name: 'A', createdAt: Date.now() });
const received = (event = userCreated()): ReceivedEvent => ({
  ...delivery(),
  event: { type: 'UserCreated', payload: event } as DecodedEvent,
  metadata: event.metadata,
  eventLogger: logger,
});

describe('retryWithBackoff', () => {
  it('retries a transient failure past maxAttempts, waiting twice as long each time up to the cap', async () => {
    const { waits, sleep } = noWait();
    let failures = 4;
    const result = await retryWithBackoff(policy, { logger, heartbeat: async () => undefined, isStopping: () => false, sleep }, async (attempt) => {
      if (failures-- > 0) throw transient();
      return attempt;
    });
    expect(result).toBe(5);
    expect(waits).toEqual([10, 20, 25, 25]);
  });

  it('gives an unclassified failure maxAttempts attempts, then raises RetriesExhausted', async () => {
    const { sleep } = noWait();
    let attempts = 0;
    const failing = retryWithBackoff(policy, { logger, heartbeat: async () => undefined, isStopping: () => false, sleep }, async () => {
      attempts += 1;
      throw new Error('a bug');
    });
    await expect(failing).rejects.toBeInstanceOf(RetriesExhausted);
    expect(attempts).toBe(3);
  });

  it('raises poison at once, as a PoisonMessageError that says why', async () => {
    const { waits, sleep } = noWait();
    const dataException = Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02', severity: 'ERROR' });
    await expect(
      retryWithBackoff(policy, { logger, heartbeat: async () => undefined, isStopping: () => false, sleep }, async () => {
        throw dataException;
      }),
    ).rejects.toThrow(new PoisonMessageError('invalid input syntax for type uuid (SQLSTATE 22P02)'));
    expect(waits).toEqual([]);
  });

  it('stops retrying when the consumer is stopping, and abandons the message when a heartbeat fails (a rebalance)', async () => {
    const { sleep } = noWait();
    const error = transient();
    await expect(retryWithBackoff(policy, { logger, heartbeat: async () => undefined, isStopping: () => true, sleep }, async () => Promise.reject(error))).rejects.toBe(error);
    const rebalancing = async () => Promise.reject(new Error('The group is rebalancing'));
    await expect(retryWithBackoff(policy, { logger, heartbeat: rebalancing, isStopping: () => false, sleep }, async () => Promise.reject(transient()))).rejects.toBeInstanceOf(
      AbandonedMessage,
    );
  });
});

describe('deadLettering', () => {
  const sent: ProducerRecord[] = [];
  const options = (isStopping = false) => ({ groupId: 'billing-service', send: async (r: ProducerRecord) => void sent.push(r), isStopping: () => isStopping, now: () => new Date('2026-11-25T22:00:00Z') });
  afterEach(() => void sent.splice(0));

  it('passes an outcome through and sends nothing', async () => {
    expect(await deadLettering(options())(async () => 'applied')(delivery())).toBe('applied');
    expect(sent).toEqual([]);
  });

  it("sends a poison message to the group's dead-letter topic with its key, value, headers and why", async () => {
    const failed = delivery({ message: message({ 'event-id': 'e-1', 'dead-letter-attempt': '2' }), headers: { 'event-id': 'e-1', 'dead-letter-attempt': '2' } });
    const outcome = await deadLettering(options())(async () => {
      throw new PoisonMessageError('amount must be positive');
    })(failed);
    expect(outcome).toBe('dead-lettered');
    expect(sent).toHaveLength(1);
    const [record] = sent;
    expect(record?.topic).toBe(dlqTopicOf('billing-service'));
    expect(record?.messages[0]).toMatchObject({ key: failed.message.key, value: failed.message.value });
    expect(record?.messages[0]?.headers).toEqual({
      'event-id': 'e-1',
      'dead-letter-attempt': '2',
      'dlq-error': 'amount must be positive',
      'dlq-error-kind': 'poison',
      'dlq-attempt': '3',
      'dlq-original-topic': 'user-events',
      'dlq-original-partition': '3',
      'dlq-original-offset': '42',
      'dlq-consumer-group': 'billing-service',
      'dlq-failed-at': '2026-11-25T22:00:00.000Z',
    });
  });

  it('marks exhausted retries as such, even while stopping', async () => {
    const outcome = await deadLettering(options(true))(async () => {
      throw new RetriesExhausted(new Error('a bug'), 20);
    })(delivery());
    expect(outcome).toBe('dead-lettered');
    expect(sent[0]?.messages[0]?.headers).toMatchObject({ 'dlq-error': 'a bug', 'dlq-error-kind': 'retries-exhausted' });
  });

  it('leaves an abandoned message, or one interrupted by shutdown, for the next owner', async () => {
    const rebalance = new Error('The group is rebalancing');
    await expect(deadLettering(options())(async () => Promise.reject(new AbandonedMessage(rebalance)))(delivery())).rejects.toBe(rebalance);
    const interrupted = transient();
    await expect(deadLettering(options(true))(async () => Promise.reject(interrupted))(delivery())).rejects.toBe(interrupted);
    expect(sent).toEqual([]);
  });
});

describe('decoding', () => {
  it('hands on the decoded event and its metadata, retrying while the registry is unreachable', async () => {
    const event = userCreated();
    const { waits, sleep } = noWait();
    let unreachable = 1;
    const codec = {
      decode: async () => {
        if (unreachable-- > 0) throw new Error('fetch failed');
        return { type: 'UserCreated', payload: event } as DecodedEvent;
      },
    };
    const next = vi.fn(async (_: ReceivedEvent) => 'applied' as const);
    expect(await decoding({ codec, retry: policy, isStopping: () => false, logger, sleep })(next)(delivery())).toBe('applied');
    expect(waits).toEqual([10]);
    expect(next.mock.calls[0]?.[0]).toMatchObject({ event: { type: 'UserCreated', payload: event }, metadata: event.metadata, topic: 'user-events' });
  });

  it('raises bytes it can never read as poison, without retrying', async () => {
    const { waits, sleep } = noWait();
    const codec = { decode: async () => Promise.reject(new PoisonMessageError('not a Confluent-framed Avro message')) };
    const next = vi.fn(async () => 'applied' as const);
    await expect(decoding({ codec, retry: policy, isStopping: () => false, logger, sleep })(next)(delivery())).rejects.toBeInstanceOf(PoisonMessageError);
    expect(waits).toEqual([]);
    expect(next).not.toHaveBeenCalled();
  });
});

describe('dispatching', () => {
  it('ignores an event the service has no handler for', async () => {
    const next = vi.fn(async () => 'applied' as const);
    expect(await dispatching({})(next)(received())).toBe('ignored');
    expect(next).not.toHaveBeenCalled();
  });

  it("hands on the event with its type's handler", async () => {
    const handler = async () => undefined;
    const next = vi.fn(async (_: HandledEvent<SqlExecutor>) => 'applied' as const);
    expect(await dispatching<SqlExecutor>({ UserCreated: handler })(next)(received())).toBe('applied');
    expect(next.mock.calls[0]?.[0].handler).toBe(handler);
  });
});

describe('inbox', () => {
  /** A database whose inbox insert reports `recorded` rows; it remembers what it was asked. */
  const inboxDb = (recorded: number) => {
    const statements: unknown[][] = [];
    const tx: SqlExecutor = {
      $queryRawUnsafe: async <T>() => [] as T,
      $executeRawUnsafe: async (...args: unknown[]) => {
        statements.push(args);
        return recorded;
      },
    };
    const db: TransactionalDb<SqlExecutor> = { $transaction: async (fn) => fn(tx) };
    return { db, statements };
  };
  const handled = (handler: (event: unknown, context: HandlerContext<SqlExecutor>) => Promise<void>, event = userCreated()): HandledEvent<SqlExecutor> => ({ ...received(event), handler });

  it('records the event id with the effect and gives the handler its context ready-made', async () => {
    const { db, statements } = inboxDb(1);
    const onCommitted = vi.fn();
    const contexts: Array<HandlerContext<SqlExecutor>> = [];
    const event = userCreated();
    const outcome = await inbox({ db, consumer: 'test.billing-service', producer: 'billing-service', retry: policy, isStopping: () => false, onCommitted })(
      handled(async (_, context) => void contexts.push(context), event),
    );
    expect(outcome).toBe('applied');
    expect(statements[0]?.slice(1)).toEqual(['test.billing-service', event.metadata.eventId, 'UserCreated']);
    expect(contexts[0]).toMatchObject({
      attempt: 1,
      metadata: event.metadata,
      eventContext: { producer: 'billing-service', correlationId: event.metadata.correlationId, causationId: event.metadata.eventId },
    });
    expect(onCommitted).toHaveBeenCalledOnce();
  });

  it('skips an event it has already recorded', async () => {
    const { db } = inboxDb(0);
    const onCommitted = vi.fn();
    const handler = vi.fn(async () => undefined);
    expect(await inbox({ db, consumer: 'g', producer: 'p', retry: policy, isStopping: () => false, onCommitted })(handled(handler))).toBe('duplicate');
    expect(handler).not.toHaveBeenCalled();
    expect(onCommitted).not.toHaveBeenCalled();
  });

  it('retries the whole transaction when the handler asks to, telling it the attempt', async () => {
    const { db, statements } = inboxDb(1);
    const { sleep } = noWait();
    const attempts: number[] = [];
    const outcome = await inbox({ db, consumer: 'g', producer: 'p', retry: policy, isStopping: () => false, sleep })(
      handled(async (_, { attempt }) => {
        attempts.push(attempt);
        if (attempt === 1) throw new RetryableError('recipient not known yet');
      }),
    );
    expect(outcome).toBe('applied');
    expect(attempts).toEqual([1, 2]);
    expect(statements).toHaveLength(2);
  });

  it('refuses an event id that is not a UUID as poison, before the database', async () => {
    const { db, statements } = inboxDb(1);
    const event = userCreated(metadataOf({ eventId: 'not-a-uuid' }));
    await expect(inbox({ db, consumer: 'g', producer: 'p', retry: policy, isStopping: () => false })(handled(async () => undefined, event))).rejects.toThrow(
      /event id is not a UUID/,
    );
    expect(statements).toEqual([]);
  });
});

describe('observed and keepingAlive', () => {
  afterEach(() => void vi.useRealTimers());

  it('counts each message by group, event type and outcome', async () => {
    const labels = { consumer_group: `group-${randomUUID()}`, event_type: 'UserCreated' };
    const count = async (outcome: string) =>
      (await eventsConsumed.get()).values.find((v) => v.labels['consumer_group'] === labels.consumer_group && v.labels['outcome'] === outcome)?.value ?? 0;
    await observed(labels.consumer_group)(async () => 'applied')(delivery());
    await observed(labels.consumer_group)(async () => 'duplicate')(delivery());
    await observed(labels.consumer_group)(async () => 'applied')(delivery());
    expect([await count('applied'), await count('duplicate'), await count('ignored')]).toEqual([2, 1, 0]);
  });

  it('heartbeats while a message is processed, and stops when it is done', async () => {
    vi.useFakeTimers();
    const heartbeat = vi.fn(async () => undefined);
    let finish: () => void = () => undefined;
    const processing = keepingAlive(1_000)(() => new Promise((resolve) => (finish = () => resolve('applied'))))(delivery({ heartbeat }));
    await vi.advanceTimersByTimeAsync(2_500);
    expect(heartbeat).toHaveBeenCalledTimes(2);
    finish();
    expect(await processing).toBe('applied');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(heartbeat).toHaveBeenCalledTimes(2);
  });
});
