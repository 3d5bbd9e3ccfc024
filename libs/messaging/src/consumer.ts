import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { DecodedEvent, EventCodec, EventMetadata, EventPayloads, EventType } from '@eventflow/events';
import { dlqTopicOf } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { PoisonMessageError, RetryableError, SpanKind, errorMessage, inSpan } from '@eventflow/platform';
import { eventProcessingDuration, eventsConsumed } from './metrics.js';
import type { SqlExecutor, TransactionalDb } from './sql.js';

export interface HandlerContext<TX> {
  /** The transaction in which the event id is recorded; write the effect through it. */
  tx: TX;
  metadata: EventMetadata;
  headers: Record<string, string>;
  logger: Logger;
  /** 1 on first delivery to the handler, more when a retryable failure is being retried. */
  attempt: number;
}

export type EventHandlers<TX> = {
  [T in EventType]?: (event: EventPayloads[T], context: HandlerContext<TX>) => Promise<void>;
};

export interface RetryPolicy {
  /**
   * Attempts for unexpected errors before a message is dead-lettered. Unbounded by default: a
   * database or registry outage must delay processing, not divert money movements to a DLQ.
   * RetryableError is always retried, since the handler itself decides when to stop waiting.
   */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export interface EventConsumerOptions<TX extends SqlExecutor> {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  codec: EventCodec;
  db: TransactionalDb<TX>;
  handlers: EventHandlers<TX>;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  /** Called after a transaction that may have written to the outbox commits. */
  onCommitted?: () => void;
}

/** Processing stopped without an outcome (shutdown or rebalance); never dead-lettered. */
class AbandonedMessage extends Error {
  constructor(cause: unknown) {
    super(`processing abandoned: ${errorMessage(cause)}`, { cause });
    this.name = 'AbandonedMessage';
  }
}

export type ProcessOutcome = 'applied' | 'duplicate' | 'ignored' | 'dead-lettered';

const defaultRetry: RetryPolicy = { maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 200, maxDelayMs: 10_000 };

const headersOf = (message: KafkaMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(message.headers ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? String(v[0]) : String(v)]])),
  );

/**
 * Consumes events exactly-once in effect: the event id is recorded in processed_events in the
 * same transaction as the handler's effect, so a redelivery changes nothing. Offsets are
 * committed only after that transaction. Poison messages go to the group's dead-letter topic
 * with the error and the original headers; failures that may pass are retried with backoff.
 */
export class EventConsumer<TX extends SqlExecutor> {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly retry: RetryPolicy;
  private stopping = false;
  readonly counts: Record<ProcessOutcome, number> = { applied: 0, duplicate: 0, ignored: 0, 'dead-lettered': 0 };
  joined = false;

  constructor(private readonly options: EventConsumerOptions<TX>) {
    this.consumer = options.kafka.consumer({ groupId: options.groupId, sessionTimeout: 30_000, heartbeatInterval: 3_000 });
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.retry = { ...defaultRetry, ...options.retry };
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
    });
    this.consumer.on(this.consumer.events.CRASH, () => {
      this.joined = false;
    });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    // From the beginning: a new group (a fresh install) must see every event ever published.
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await this.consumer.run({
      // Offsets are resolved only after the message's transaction committed; kafkajs commits the
      // resolved offsets at the end of each batch and every second, which the inbox makes safe.
      autoCommit: true,
      autoCommitInterval: 1_000,
      eachBatchAutoResolve: false,
      // A partition that is waiting out a retry must not hold up the others.
      partitionsConsumedConcurrently: 3,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || this.stopping) break;
          await this.process(batch.topic, batch.partition, message, heartbeat);
          resolveOffset(message.offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
      },
    });
  }

  /** Finishes the message in hand, commits, and leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
    await this.producer.disconnect();
    this.joined = false;
  }

  async process(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void> = async () => {}): Promise<ProcessOutcome> {
    const started = process.hrtime.bigint();
    const headers = headersOf(message);
    const eventType = headers['event-type'] ?? 'unknown';
    // The consumer continues the producer's trace (traceparent header), so one order is one trace.
    const outcome = await inSpan(
      `${topic} process`,
      SpanKind.CONSUMER,
      headers,
      { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.consumer.group.name': this.options.groupId, 'eventflow.event_type': eventType },
      () => this.handle(topic, partition, message, headers, heartbeat),
    );
    const labels = { consumer_group: this.options.groupId, event_type: eventType };
    eventsConsumed.inc({ ...labels, outcome });
    eventProcessingDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    return outcome;
  }

  private async handle(
    topic: string,
    partition: number,
    message: KafkaMessage,
    headers: Record<string, string>,
    heartbeat: () => Promise<void>,
  ): Promise<ProcessOutcome> {
    const log = this.options.logger.child({ topic, partition, offset: message.offset, eventId: headers['event-id'] });
    let event: DecodedEvent;
    try {
      event = await this.withRetry(log, heartbeat, () => this.options.codec.decode(message.value));
    } catch (error) {
      return this.deadLetter(topic, partition, message, headers, error, log);
    }
    const handler = this.options.handlers[event.type] as EventHandlers<TX>[EventType] | undefined;
    if (!handler) return this.count('ignored');
    const { metadata } = event.payload;
    // From the root logger, not `log`: pino would write eventId twice (header and envelope).
    const eventLog = this.options.logger.child({
      topic,
      partition,
      offset: message.offset,
      eventType: event.type,
      eventId: metadata.eventId,
      correlationId: metadata.correlationId,
    });
    try {
      const applied = await this.withRetry(eventLog, heartbeat, (attempt) =>
        this.options.db.$transaction(
          async (tx) => {
            const recorded = await tx.$executeRawUnsafe(
              'INSERT INTO processed_events (consumer, event_id, event_type) VALUES ($1, $2::uuid, $3) ON CONFLICT DO NOTHING',
              this.options.groupId,
              metadata.eventId,
              event.type,
            );
            if (recorded === 0) return false;
            await (handler as (e: unknown, c: HandlerContext<TX>) => Promise<void>)(event.payload, {
              tx,
              metadata,
              headers,
              logger: eventLog,
              attempt,
            });
            return true;
          },
          { timeout: 30_000, maxWait: 10_000 },
        ),
      );
      if (!applied) {
        eventLog.info('duplicate event ignored');
        return this.count('duplicate');
      }
      this.options.onCommitted?.();
      eventLog.debug('event applied');
      return this.count('applied');
    } catch (error) {
      return this.deadLetter(topic, partition, message, headers, error, eventLog);
    }
  }

  private count(outcome: ProcessOutcome): ProcessOutcome {
    this.counts[outcome] += 1;
    return outcome;
  }

  /** Runs fn, retrying failures that are not poison with exponential backoff. */
  private async withRetry<R>(log: Logger, heartbeat: () => Promise<void>, fn: (attempt: number) => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fn(attempt);
      } catch (error) {
        const exhausted = !(error instanceof RetryableError) && attempt >= this.retry.maxAttempts;
        if (error instanceof PoisonMessageError || exhausted || this.stopping) throw error;
        const delay = Math.min(this.retry.initialDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
        log.warn({ err: error, attempt, delayMs: delay }, `processing failed, retrying: ${errorMessage(error)}`);
        await new Promise((resolve) => setTimeout(resolve, delay));
        // A heartbeat that fails means the group is rebalancing: give the message up unprocessed
        // (its offset is not resolved, so the partition's next owner receives it again).
        try {
          await heartbeat();
        } catch (rebalance) {
          throw new AbandonedMessage(rebalance);
        }
      }
    }
  }

  private async deadLetter(
    topic: string,
    partition: number,
    message: KafkaMessage,
    headers: Record<string, string>,
    error: unknown,
    log: Logger,
  ): Promise<ProcessOutcome> {
    // Shutting down or rebalancing: leave the message for the next run or the next owner.
    if (error instanceof AbandonedMessage) throw error.cause;
    if (this.stopping && !(error instanceof PoisonMessageError)) throw error;
    const dlq = dlqTopicOf(this.options.groupId);
    log.error({ err: error, dlq }, `message sent to the dead-letter topic: ${errorMessage(error)}`);
    await this.producer.send({
      topic: dlq,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: {
            ...headers,
            'dlq-error': errorMessage(error),
            'dlq-error-kind': error instanceof PoisonMessageError ? 'poison' : 'retries-exhausted',
            'dlq-original-topic': topic,
            'dlq-original-partition': String(partition),
            'dlq-original-offset': message.offset,
            'dlq-consumer-group': this.options.groupId,
            'dlq-failed-at': new Date().toISOString(),
          },
        },
      ],
    });
    return this.count('dead-lettered');
  }
}
