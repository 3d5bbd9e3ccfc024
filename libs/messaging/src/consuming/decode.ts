import type { EventCodec } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { PoisonMessageError } from '@eventflow/platform';
import type { FailureClass } from '../failures.js';
import type { Delivery, Policy, ReceivedEvent } from './delivery.js';
import { retryWithBackoff, type RetryPolicy } from './retry.js';

/** The codec throws PoisonMessageError for bytes it can never read; anything else is the registry being unreachable, which passes. */
export const decodeFailure = (error: unknown): FailureClass =>
  error instanceof PoisonMessageError ? { kind: 'poison', reason: 'undecodable' } : { kind: 'transient', reason: 'schema registry' };

export interface DecodingOptions {
  codec: Pick<EventCodec, 'decode'>;
  retry: RetryPolicy;
  isStopping: () => boolean;
  /** The consumer's logger, for the event's own child logger. */
  logger: Logger;
  sleep?: (ms: number) => Promise<void>;
}

/** Decodes the Avro value (retrying while the registry is unreachable) and hands on the event with its metadata and logger. */
export const decoding =
  (options: DecodingOptions): Policy<Delivery, ReceivedEvent> =>
  (next) =>
  async (delivery) => {
    const { topic, partition, message } = delivery;
    const scope = { logger: delivery.logger, heartbeat: delivery.heartbeat, isStopping: options.isStopping, classify: decodeFailure, ...(options.sleep && { sleep: options.sleep }) };
    const event = await retryWithBackoff(options.retry, scope, () => options.codec.decode(message.value));
    const { metadata } = event.payload;
    // From the consumer's logger, not the delivery's: pino would write eventId twice (header and envelope).
    const eventLogger = options.logger.child({ topic, partition, offset: message.offset, eventType: event.type, eventId: metadata.eventId, correlationId: metadata.correlationId });
    return next({ ...delivery, event, metadata, eventLogger });
  };
