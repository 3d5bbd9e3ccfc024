import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { DecodedEvent, EventCodec, EventMetadata, EventPayloads, EventType } from '@eventflow/events';
import { dlqTopicOf, namespaced } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { PoisonMessageError, SpanKind, errorMessage, inSpan, isUuid } from '@eventflow/platform';
import { classifyFailure, type FailureClass } from './failures.js';
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
   * Attempts for failures classifyFailure cannot place before the message is dead-lettered (as
   * `retries-exhausted`, replayable with `npm run events -- replay`). Poison (invalid fields, a
   * data exception or constraint the values violate) is dead-lettered at once; transient failures
   * (connection lost, database restarting, serialization failure, deadlock, RetryableError) are
   * retried without limit: an outage must delay processing, never divert money movements.
   */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

/**
 * Consumer-group timing. kafkajs 2.2.4 has no static membership (KIP-345 group.instance.id), so
 * a member that dies without leaving (SIGKILL, a paused process) holds its partitions until the
 * coordinator expires its session, and a restarted instance's join waits for that too. 10 s
 * (Kafka's default client is 45 s, kafkajs's 30 s) bounds that stall; the broker's minimum is
 * 6 s. Heartbeats every second leave room for nine lost ones on a loaded machine, and the
 * consumer keeps heartbeating while a message's transaction runs (see process), so a slow
 * message does not cost the membership. The rebalance timeout is how long the coordinator waits
 * for live members to rejoin; a member finishes its message in hand first, hence 20 s.
 */
export interface GroupTiming {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  rebalanceTimeoutMs: number;
}

export const defaultGroupTiming: GroupTiming = { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 20_000 };

export interface EventConsumerOptions<TX extends SqlExecutor> {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  codec: EventCodec;
  db: TransactionalDb<TX>;
  handlers: EventHandlers<TX>;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  group?: Partial<GroupTiming>;
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

const defaultRetry: RetryPolicy = { maxAttempts: 20, initialDelayMs: 200, maxDelayMs: 10_000 };

/** A failure that is not poison and may not be retried any more. */
class RetriesExhausted extends Error {
  constructor(
    cause: unknown,
    readonly attempts: number,
  ) {
    super(errorMessage(cause), { cause });
    this.name = 'RetriesExhausted';
  }
}

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
  /** In the group with partitions assigned (false while joining or rebalancing). */
  joined = false;
  /** Set when kafkajs gave up on the consumer (a crash it does not restart from). */
  failure: string | undefined;
  private running: Promise<void> | undefined;

  private readonly options: EventConsumerOptions<TX>;

  constructor(options: EventConsumerOptions<TX>) {
    // The group and topics are declared with a release's names; this process's namespace applies here.
    this.options = { ...options, groupId: namespaced(options.groupId), topics: options.topics.map((topic) => namespaced(topic)) };
    const timing = { ...defaultGroupTiming, ...options.group };
    this.consumer = options.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: timing.sessionTimeoutMs,
      heartbeatInterval: timing.heartbeatIntervalMs,
      rebalanceTimeout: timing.rebalanceTimeoutMs,
    });
    this.producer = options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    this.retry = { ...defaultRetry, ...options.retry };
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      this.failure = undefined;
    });
    this.consumer.on(this.consumer.events.REBALANCING, () => {
      this.joined = false;
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      // kafkajs restarts after retriable errors itself; anything else leaves the consumer stopped.
      if (!payload.restart) this.failure = errorMessage(payload.error);
    });
  }

  /**
   * Connects and subscribes, then joins the group in the background: the join waits for the
   * group's rebalance (up to a dead member's session timeout), which must not delay the
   * service's HTTP side. `joined` tells when partitions are assigned.
   */
  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    // From the beginning: a new group (a fresh install) must see every event ever published.
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    this.running = this.runConsumer().catch((error: unknown) => {
      this.failure = errorMessage(error);
      this.options.logger.error({ err: error }, `consumer stopped: ${errorMessage(error)}`);
    });
  }

  private async runConsumer(): Promise<void> {
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
    await this.running;
    await this.producer.disconnect();
    this.joined = false;
  }

  async process(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void> = async () => {}): Promise<ProcessOutcome> {
    const started = process.hrtime.bigint();
    const headers = headersOf(message);
    const eventType = headers['event-type'] ?? 'unknown';
    // kafkajs heartbeats only between messages; a transaction that waits (on a row lock, a slow
    // database) must not cost the membership. A paused process sends none, as it should.
    const keepAlive = setInterval(() => void heartbeat().catch(() => undefined), 1_000);
    let outcome: ProcessOutcome;
    try {
      // The consumer continues the producer's trace (traceparent header), so one order is one trace.
      outcome = await inSpan(
        `${topic} process`,
        SpanKind.CONSUMER,
        headers,
        { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.consumer.group.name': this.options.groupId, 'eventflow.event_type': eventType },
        () => this.handle(topic, partition, message, headers, heartbeat),
      );
    } finally {
      clearInterval(keepAlive);
    }
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
      // The codec throws PoisonMessageError for bytes it can never read; anything else is the
      // registry being unreachable, which passes.
      event = await this.withRetry(log, heartbeat, () => this.options.codec.decode(message.value), (error) =>
        error instanceof PoisonMessageError ? { kind: 'poison', reason: 'undecodable' } : { kind: 'transient', reason: 'schema registry' },
      );
    } catch (error) {
      return this.deadLetter(topic, partition, message, headers, error, log);
    }
    const handler = this.options.handlers[event.type] as EventHandlers<TX>[EventType] | undefined;
    if (!handler) return this.count('ignored');
    const { metadata } = event.payload;
    // The inbox keys on the event id: one that is not a UUID can never be recorded.
    if (!isUuid(metadata.eventId)) {
      return this.deadLetter(topic, partition, message, headers, new PoisonMessageError(`event id is not a UUID: ${JSON.stringify(metadata.eventId)}`), log);
    }
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

  /** Runs fn, retrying transient failures without limit and unknown ones up to maxAttempts, with exponential backoff. */
  private async withRetry<R>(
    log: Logger,
    heartbeat: () => Promise<void>,
    fn: (attempt: number) => Promise<R>,
    classify: (error: unknown) => FailureClass = classifyFailure,
  ): Promise<R> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fn(attempt);
      } catch (error) {
        const failure = classify(error);
        if (error instanceof PoisonMessageError) throw error;
        if (failure.kind === 'poison') throw new PoisonMessageError(`${errorMessage(error)} (${failure.reason})`, { cause: error });
        if (this.stopping) throw error;
        if (failure.kind === 'unknown' && attempt >= this.retry.maxAttempts) throw new RetriesExhausted(error, attempt);
        const delay = Math.min(this.retry.initialDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
        log.warn({ err: error, attempt, delayMs: delay, failure: failure.kind, reason: failure.reason }, `processing failed, retrying: ${errorMessage(error)}`);
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
    if (this.stopping && !(error instanceof PoisonMessageError) && !(error instanceof RetriesExhausted)) throw error;
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
            // How often this event has been dead-lettered: a replay carries the count on
            // (dead-letter-attempt), so a replayed message that fails again shows count + 1.
            'dlq-attempt': String((Number(headers['dead-letter-attempt']) || 0) + 1),
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
