import type { KafkaMessage } from 'kafkajs';
import type { DecodedEvent, EventMetadata } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { errorMessage } from '@eventflow/platform';
import type { EventContext } from '../outbox.js';

/**
 * The consumer's pipeline, in the style of Watermill's router middleware: each policy is a
 * function from the next step to a step, so each is unit-tested with a stub for "next" and the
 * Kafka loop (EventConsumer) only composes them:
 *
 *   observed → deadLettering → decoding → dispatching → inbox (→ the handler)
 */
export type ProcessOutcome = 'applied' | 'duplicate' | 'ignored' | 'dead-lettered';

/** One step of the pipeline: takes what the previous one produced, answers the outcome. */
export type Step<In> = (input: In) => Promise<ProcessOutcome>;

/** A policy wraps the next step; `In` is what it receives, `Out` what it hands on. */
export type Policy<In, Out = In> = (next: Step<Out>) => Step<In>;

/** A message as it arrives from Kafka. */
export interface Delivery {
  topic: string;
  partition: number;
  message: KafkaMessage;
  /** The message's headers as strings. */
  headers: Record<string, string>;
  /** kafkajs's heartbeat; it throws while the group is rebalancing. */
  heartbeat: () => Promise<void>;
  /** Tagged with topic, partition, offset and the event id header. */
  logger: Logger;
}

/** A delivery whose value decoded to a known event. */
export interface ReceivedEvent extends Delivery {
  event: DecodedEvent;
  metadata: EventMetadata;
  /** Tagged with the event's type, id and correlation id. */
  eventLogger: Logger;
}

export const headersOf = (message: KafkaMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(message.headers ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? String(v[0]) : String(v)]])),
  );

/**
 * What the events a handler appends carry: the same business flow (correlation id), caused by
 * the event being handled, produced by this service.
 */
export const eventContextOf = (metadata: EventMetadata, producer: string): EventContext => ({
  producer,
  correlationId: metadata.correlationId,
  causationId: metadata.eventId,
});

/** Processing stopped without an outcome (shutdown or rebalance); never dead-lettered. */
export class AbandonedMessage extends Error {
  constructor(cause: unknown) {
    super(`processing abandoned: ${errorMessage(cause)}`, { cause });
    this.name = 'AbandonedMessage';
  }
}

/** A failure that is not poison and may not be retried any more. */
export class RetriesExhausted extends Error {
  constructor(
    cause: unknown,
    readonly attempts: number,
  ) {
    super(errorMessage(cause), { cause });
    this.name = 'RetriesExhausted';
  }
}
