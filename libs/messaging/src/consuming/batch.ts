import type { EventCodec } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { SpanKind, inSpan, isUuid } from '@eventflow/platform';
import { eventProcessingDuration, eventsConsumed } from '../metrics.js';
import type { SqlExecutor, TransactionalDb } from '../sql.js';
import { eventContextOf, type Delivery, type ProcessOutcome, type ReceivedEvent } from './delivery.js';
import type { EventHandlers, Handler } from './handlers.js';

export interface BatchOptions<TX extends SqlExecutor> {
  codec: Pick<EventCodec, 'decode'>;
  handlers: EventHandlers<TX>;
  db: TransactionalDb<TX>;
  /** The consumer group (as Kafka knows it): the inbox's key with the event id, and the metrics label. */
  consumer: string;
  /** This service's name, the producer of the events its handlers append. */
  producer: string;
  /** The consumer's logger, for each event's own child logger. */
  logger: Logger;
  /** Called after the batch's transaction committed (it may have written to the outbox). */
  onCommitted?: () => void;
}

/** What happened to a run of messages: each one's outcome, or `undefined` when they must go one by one. */
export type BatchOutcome = ProcessOutcome[] | undefined;

interface Decoded<TX> extends ReceivedEvent {
  handler: Handler<TX> | undefined;
  /** Lower case: how PostgreSQL returns a uuid. */
  key: string;
}

/**
 * Applies a run of one partition's messages (in offset order) in ONE transaction: one inbox
 * insert for all their event ids, every new event's handler in turn on the same transaction, one
 * commit. That is the fast path when events arrive faster than one transaction per event can
 * apply them; the guarantees are those of the inbox step, per event:
 *
 * - exactly-once in effect: the ids the insert recorded (RETURNING) are the events not seen
 *   before, and only their handlers run; ids and effects commit or roll back together;
 * - per-user order: a user's events share a partition, and the handlers run in offset order, each
 *   seeing the effects of those before it;
 * - nothing is lost or diverted: anything unusual (a value that does not decode, an event id that
 *   is not a UUID, any failure inside the transaction) rolls the whole run back and answers
 *   `undefined`, and the caller sends the run's messages one by one through the pipeline, whose
 *   policies decide each (retry with backoff, dead-letter, abandon on rebalance). A batch is an
 *   optimisation that never changes an outcome.
 *
 * Each event still gets its consumer span (continuing the producer's trace, so the events its
 * handler appends carry it on) and is counted in the consumed-events metrics by outcome.
 */
export const applyingTogether =
  <TX extends SqlExecutor>(options: BatchOptions<TX>) =>
  async (deliveries: Delivery[]): Promise<BatchOutcome> => {
    const started = process.hrtime.bigint();
    const decoded: Decoded<TX>[] = [];
    for (const delivery of deliveries) {
      const { topic, partition, message } = delivery;
      let event;
      try {
        event = await options.codec.decode(message.value);
      } catch {
        return undefined;
      }
      const { metadata } = event.payload;
      if (!isUuid(metadata.eventId)) return undefined;
      const eventLogger = options.logger.child({ topic, partition, offset: message.offset, eventType: event.type, eventId: metadata.eventId, correlationId: metadata.correlationId });
      const handler = options.handlers[event.type] as Handler<TX> | undefined;
      decoded.push({ ...delivery, event, metadata, eventLogger, handler, key: metadata.eventId.toLowerCase() });
    }
    const handled = decoded.filter((d) => d.handler !== undefined);
    let outcomes: ProcessOutcome[];
    try {
      outcomes = handled.length === 0 ? decoded.map(() => 'ignored') : await options.db.$transaction((tx) => applyInOrder(options, tx, decoded, handled), { timeout: 30_000, maxWait: 10_000 });
    } catch (error) {
      options.logger.debug({ err: error, messages: deliveries.length }, 'batch rolled back; applying its messages one by one');
      return undefined;
    }
    if (outcomes.includes('applied')) options.onCommitted?.();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    decoded.forEach((d, i) => {
      const labels = { consumer_group: options.consumer, event_type: d.event.type };
      eventsConsumed.inc({ ...labels, outcome: outcomes[i] ?? 'ignored' });
      eventProcessingDuration.observe(labels, seconds);
    });
    return outcomes;
  };

async function applyInOrder<TX extends SqlExecutor>(options: BatchOptions<TX>, tx: TX, decoded: Decoded<TX>[], handled: Decoded<TX>[]): Promise<ProcessOutcome[]> {
  const recorded = await tx.$queryRawUnsafe<Array<{ event_id: string }>>(
    `INSERT INTO processed_events (consumer, event_id, event_type)
     SELECT $1, e.id, e.type FROM unnest($2::uuid[], $3::text[]) AS e(id, type)
     ON CONFLICT DO NOTHING RETURNING event_id`,
    options.consumer,
    handled.map((d) => d.key),
    handled.map((d) => d.event.type),
  );
  // An id delivered twice in one run is recorded once; only its first delivery applies.
  const fresh = new Set(recorded.map((r) => r.event_id));
  const outcomes: ProcessOutcome[] = [];
  for (const d of decoded) {
    if (!d.handler) {
      outcomes.push('ignored');
      continue;
    }
    if (!fresh.delete(d.key)) {
      d.eventLogger.debug('duplicate event ignored');
      outcomes.push('duplicate');
      continue;
    }
    const { event, metadata, headers, eventLogger, topic } = d;
    const handler = d.handler;
    const attributes = { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.consumer.group.name': options.consumer, 'eventflow.event_type': event.type };
    await inSpan(`${topic} process`, SpanKind.CONSUMER, headers, attributes, () =>
      handler(event.payload, { tx, metadata, headers, logger: eventLogger, attempt: 1, eventContext: eventContextOf(metadata, options.producer) }),
    );
    eventLogger.debug('event applied');
    outcomes.push('applied');
  }
  return outcomes;
}
