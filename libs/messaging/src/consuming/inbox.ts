import { PoisonMessageError, isUuid } from '@eventflow/platform';
import type { SqlExecutor, TransactionalDb } from '../sql.js';
import { eventContextOf, type Step } from './delivery.js';
import type { HandledEvent } from './handlers.js';
import { retryWithBackoff, type RetryPolicy } from './retry.js';

export interface InboxOptions<TX extends SqlExecutor> {
  db: TransactionalDb<TX>;
  /** The consumer group (as Kafka knows it): the inbox's key with the event id. */
  consumer: string;
  /** This service's name, the producer of the events its handlers append. */
  producer: string;
  retry: RetryPolicy;
  isStopping: () => boolean;
  /** Called after a transaction that may have written to the outbox commits. */
  onCommitted?: () => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Exactly-once in effect: the event id is recorded in processed_events in the same transaction
 * as the handler's effect, so a redelivery finds it and changes nothing. The transaction is
 * retried as a whole (retryWithBackoff).
 */
export const inbox =
  <TX extends SqlExecutor>(options: InboxOptions<TX>): Step<HandledEvent<TX>> =>
  async (handled) => {
    const { event, metadata, eventLogger, handler, headers } = handled;
    // The inbox keys on the event id: one that is not a UUID can never be recorded.
    if (!isUuid(metadata.eventId)) throw new PoisonMessageError(`event id is not a UUID: ${JSON.stringify(metadata.eventId)}`);
    const eventContext = eventContextOf(metadata, options.producer);
    const scope = { logger: eventLogger, heartbeat: handled.heartbeat, isStopping: options.isStopping, ...(options.sleep && { sleep: options.sleep }) };
    const applied = await retryWithBackoff(options.retry, scope, (attempt) =>
      options.db.$transaction(
        async (tx) => {
          const recorded = await tx.$executeRawUnsafe(
            'INSERT INTO processed_events (consumer, event_id, event_type) VALUES ($1, $2::uuid, $3) ON CONFLICT DO NOTHING',
            options.consumer,
            metadata.eventId,
            event.type,
          );
          if (recorded === 0) return false;
          await handler(event.payload, { tx, metadata, headers, logger: eventLogger, attempt, eventContext });
          return true;
        },
        { timeout: 30_000, maxWait: 10_000 },
      ),
    );
    if (!applied) {
      eventLogger.info('duplicate event ignored');
      return 'duplicate';
    }
    options.onCommitted?.();
    eventLogger.debug('event applied');
    return 'applied';
  };
