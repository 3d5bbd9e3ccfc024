import type { Producer } from 'kafkajs';
import type { EventBody, EventCodec, EventPayloads, EventType } from '@eventflow/events';
import { eventTopics, namespaced } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { currentTraceparent, errorMessage, uuidv7 } from '@eventflow/platform';
import { eventsPublished } from './metrics.js';
import { outboxInsert } from './outbox-sql.js';
import type { SqlExecutor, TransactionalDb } from './sql.js';

export interface EventContext {
  /** Who produced the event (service name). */
  producer: string;
  /** The business flow this event belongs to. */
  correlationId: string;
  /** The event that caused this one, if any. */
  causationId?: string | null;
  /** W3C trace context to carry in the Kafka headers; defaults to the active span's. */
  traceparent?: string | undefined;
}

/** The columns of one outbox_events row; pass it to `tx.outboxEvent.create({ data })`. */
export interface OutboxRow {
  eventId: string;
  eventType: EventType;
  topic: string;
  key: string;
  payload: EventPayloads[EventType];
  headers: Record<string, string>;
}

/** Builds the outbox row for an event: adds the envelope, chooses topic and key (the user id). */
export function outboxRow<T extends EventType>(type: T, body: EventBody<T> & { userId: string }, context: EventContext): OutboxRow {
  // Time-ordered: event ids are the keys of outbox_events' and every inbox's unique index.
  const eventId = uuidv7();
  const payload = {
    metadata: {
      eventId,
      eventType: type,
      occurredAt: Date.now(),
      correlationId: context.correlationId,
      causationId: context.causationId ?? null,
      producer: context.producer,
    },
    ...body,
  } as EventPayloads[T];
  const headers: Record<string, string> = { 'correlation-id': context.correlationId };
  const traceparent = context.traceparent ?? currentTraceparent();
  if (traceparent) headers['traceparent'] = traceparent;
  return { eventId, eventType: type, topic: namespaced(eventTopics[type]), key: body.userId, payload, headers };
}

interface PendingRow {
  id: bigint;
  event_id: string;
  event_type: EventType;
  topic: string;
  key: string;
  payload: EventPayloads[EventType];
  headers: Record<string, string>;
}

export interface OutboxRelayOptions {
  pollIntervalMs: number;
  batchSize: number;
  /** Advisory lock key: one relay per database publishes at a time, which keeps the order. */
  lockKey: number;
}

/**
 * Publishes the outbox in id order. Rows are marked published in the same transaction that
 * read them, after Kafka acknowledged them (acks=all, idempotent producer), so a crash can only
 * cause a re-publish, never a loss; consumers de-duplicate by event id.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set by a nudge, cleared when a batch starts and when it reads the outbox: a nudge during a batch is not lost. */
  private nudged = false;
  private failures = 0;

  constructor(
    private readonly db: TransactionalDb<SqlExecutor>,
    private readonly producer: Producer,
    private readonly codec: EventCodec,
    private readonly logger: Logger,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * Asks the relay to look now instead of at its next poll (called after a commit). A nudge that
   * arrives while a batch is in flight (whose query may have run before that commit) makes the
   * relay go again right after it, instead of sleeping a poll interval with a row waiting.
   */
  nudge(): void {
    this.nudged = true;
    this.wake?.();
  }

  /** Stops polling and publishes what is still pending, within the given time. */
  async stop(flushTimeoutMs = 5_000): Promise<void> {
    this.running = false;
    this.nudge();
    await this.loop;
    const deadline = Date.now() + flushTimeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await this.publishBatch()) === 0) return;
      } catch (error) {
        this.logger.error({ err: error }, 'outbox flush on shutdown failed');
        return;
      }
    }
  }

  /** Publishes at most one batch; returns how many events it published. */
  async publishBatch(): Promise<number> {
    return this.db.$transaction(
      async (tx) => {
        const [lock] = await tx.$queryRawUnsafe<Array<{ locked: boolean }>>(
          'SELECT pg_try_advisory_xact_lock($1) AS locked',
          this.options.lockKey,
        );
        if (!lock?.locked) return 0;
        // This query sees every commit nudged so far: only a nudge from now on calls for another batch
        // (fewer empty batches than clearing the flag only when the batch starts).
        this.nudged = false;
        const rows = await tx.$queryRawUnsafe<PendingRow[]>(
          `SELECT id, event_id, event_type, topic, key, payload, headers FROM outbox_events
           WHERE published_at IS NULL ORDER BY id LIMIT $1`,
          this.options.batchSize,
        );
        if (rows.length === 0) return 0;
        const byTopic = new Map<string, Array<{ key: string; value: Buffer; headers: Record<string, string> }>>();
        for (const row of rows) {
          const value = await this.codec.encode(row.event_type, row.payload);
          const messages = byTopic.get(row.topic) ?? [];
          messages.push({
            key: row.key,
            value,
            headers: { ...row.headers, 'event-type': row.event_type, 'event-id': row.event_id },
          });
          byTopic.set(row.topic, messages);
        }
        await this.producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        await tx.$executeRawUnsafe(
          'UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])',
          rows.map((r) => r.id.toString()),
        );
        for (const row of rows) eventsPublished.inc({ event_type: row.event_type });
        return rows.length;
      },
      { timeout: 30_000, maxWait: 10_000 },
    );
  }

  /** Rows not yet published and the age of the oldest, for readiness and metrics. */
  async backlog(): Promise<{ count: number; oldestAgeMs: number }> {
    const [row] = await this.db.$transaction((tx) =>
      tx.$queryRawUnsafe<Array<{ count: bigint; oldest: Date | null }>>(
        'SELECT count(*) AS count, min(created_at) AS oldest FROM outbox_events WHERE published_at IS NULL',
      ),
    );
    return { count: Number(row?.count ?? 0), oldestAgeMs: row?.oldest ? Date.now() - row.oldest.getTime() : 0 };
  }

  private async run(): Promise<void> {
    while (this.running) {
      // The batch's query runs after this point, so it sees every commit nudged before it. (Cleared
      // here too, not only before the query, so a batch that does not get the lock is not repeated at once.)
      this.nudged = false;
      let published = 0;
      try {
        published = await this.publishBatch();
        this.failures = 0;
      } catch (error) {
        this.failures += 1;
        this.logger.error({ err: error, failures: this.failures }, `outbox publish failed: ${errorMessage(error)}`);
      }
      // A full batch, or a nudge while it ran, means more is waiting: go again at once. Otherwise
      // wait for a nudge or the poll interval; after a failure, back off (a nudge still wakes it,
      // as before) while Kafka or the registry is unavailable.
      const more = published >= this.options.batchSize || (this.nudged && this.failures === 0);
      if (!more && this.running) {
        const delay = this.failures > 0 ? Math.min(this.options.pollIntervalMs * 2 ** this.failures, 10_000) : this.options.pollIntervalMs;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = undefined;
      }
    }
  }
}

/** Writes events to the outbox inside the caller's transaction, next to the state change. */
export async function appendToOutbox(tx: SqlExecutor, ...rows: OutboxRow[]): Promise<void> {
  for (const row of rows) {
    const insert = outboxInsert(row, 1);
    await tx.$executeRawUnsafe(insert.sql, ...insert.values);
  }
}
