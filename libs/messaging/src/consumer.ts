import type { Consumer, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { EventCodec } from '@eventflow/events';
import { namespaced } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { errorMessage } from '@eventflow/platform';
import { applyingTogether, type BatchOutcome } from './consuming/batch.js';
import { decoding } from './consuming/decode.js';
import { deadLettering } from './consuming/dead-letter.js';
import { headersOf, type Delivery, type ProcessOutcome, type Step } from './consuming/delivery.js';
import { dispatching, type EventHandlers } from './consuming/handlers.js';
import { inbox } from './consuming/inbox.js';
import { keepingAlive, observed } from './consuming/observe.js';
import { defaultRetry, type RetryPolicy } from './consuming/retry.js';
import type { SqlExecutor, TransactionalDb } from './sql.js';

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
  /** The service's name: the producer of the events its handlers append (default: the group id). */
  producer?: string;
  logger: Logger;
  retry?: Partial<RetryPolicy>;
  group?: Partial<GroupTiming>;
  /** Called after a transaction that may have written to the outbox commits. */
  onCommitted?: () => void;
  /**
   * At most this many of a partition's waiting messages are applied in one transaction (see
   * consuming/batch.ts); 1 applies every message in its own transaction.
   */
  maxBatchSize?: number;
}

/** Enough to share a commit among what arrives in one fetch at this machine's rates, small enough to keep a transaction's locks short. */
export const defaultMaxBatchSize = 50;

/**
 * The Kafka side of consuming: joins the group; applies the messages a fetch brought for a
 * partition in runs of up to maxBatchSize, one transaction per run (./consuming/batch.ts); a run
 * with anything unusual in it, and a lone message, go one by one through the pipeline of policies
 * (./consuming: keep-alive, tracing and metrics, dead-lettering, decoding, dispatch, inbox with
 * retries). Offsets are resolved only after the transaction that applied them committed.
 */
export class EventConsumer<TX extends SqlExecutor> {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly pipeline: Step<Delivery>;
  private readonly applyBatch: (deliveries: Delivery[]) => Promise<BatchOutcome>;
  private readonly maxBatchSize: number;
  private stopping = false;
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
    const retry = { ...defaultRetry, ...options.retry };
    const { groupId } = this.options;
    const isStopping = () => this.stopping;
    this.pipeline = keepingAlive(1_000)(
      observed(groupId)(
        deadLettering({ groupId, send: (record) => this.producer.send(record), isStopping })(
          decoding({ codec: options.codec, retry, isStopping, logger: options.logger })(
            dispatching(options.handlers)(
              inbox({ db: options.db, consumer: groupId, producer: options.producer ?? options.groupId, retry, isStopping, ...(options.onCommitted && { onCommitted: options.onCommitted }) }),
            ),
          ),
        ),
      ),
    );
    this.applyBatch = applyingTogether({
      codec: options.codec,
      handlers: options.handlers,
      db: options.db,
      consumer: groupId,
      producer: options.producer ?? options.groupId,
      logger: options.logger,
      ...(options.onCommitted && { onCommitted: options.onCommitted }),
    });
    this.maxBatchSize = Math.max(1, options.maxBatchSize ?? defaultMaxBatchSize);
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
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, uncommittedOffsets, isRunning, isStale }) => {
        const live = () => isRunning() && !isStale() && !this.stopping;
        for (let start = 0; start < batch.messages.length && live(); start += this.maxBatchSize) {
          const run = batch.messages.slice(start, start + this.maxBatchSize);
          // Several waiting messages: one transaction for all of them if nothing in it is unusual.
          if (run.length > 1 && (await this.processTogether(batch.topic, batch.partition, run, heartbeat))) {
            resolveOffset(run[run.length - 1]!.offset);
          } else {
            for (const message of run) {
              if (!live()) break;
              await this.process(batch.topic, batch.partition, message, heartbeat);
              resolveOffset(message.offset);
              await commitOffsetsIfNecessary();
              await heartbeat();
            }
          }
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
        // Caught up with the partition: commit now. The interval check above commits only if a
        // second has passed since the last commit, and after a burst the next check waits for
        // the next message; until then the group's committed offsets (what admission control
        // and the lag metrics read) would show the burst's tail as a backlog nobody is working on.
        if (batch.offsetLag() === '0' && !this.stopping) await commitOffsetsIfNecessary(uncommittedOffsets());
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

  /**
   * Applies a run of a partition's messages in one transaction (consuming/batch.ts), keeping the
   * membership alive meanwhile; false when the run must go through the pipeline one by one.
   */
  async processTogether(topic: string, partition: number, messages: KafkaMessage[], heartbeat: () => Promise<void> = async () => {}): Promise<boolean> {
    const deliveries = messages.map((message) => {
      const headers = headersOf(message);
      return { topic, partition, message, headers, heartbeat, logger: this.options.logger };
    });
    const keepAlive = setInterval(() => void heartbeat().catch(() => undefined), 1_000);
    try {
      return (await this.applyBatch(deliveries)) !== undefined;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** Runs one message through the pipeline; resolves when it has an outcome (its offset may then be resolved). */
  process(topic: string, partition: number, message: KafkaMessage, heartbeat: () => Promise<void> = async () => {}): Promise<ProcessOutcome> {
    const headers = headersOf(message);
    const logger = this.options.logger.child({ topic, partition, offset: message.offset, eventId: headers['event-id'] });
    return this.pipeline({ topic, partition, message, headers, heartbeat, logger });
  }
}
