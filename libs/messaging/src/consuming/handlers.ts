import type { EventMetadata, EventPayloads, EventType } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import type { EventContext } from '../outbox.js';
import type { Policy, ReceivedEvent } from './delivery.js';

export interface HandlerContext<TX> {
  /** The transaction in which the event id is recorded; write the effect through it. */
  tx: TX;
  metadata: EventMetadata;
  headers: Record<string, string>;
  logger: Logger;
  /** 1 on first delivery to the handler, more when a retryable failure is being retried. */
  attempt: number;
  /** For the events the handler appends: same correlation id, caused by this event, produced by this service. */
  eventContext: EventContext;
}

export type EventHandlers<TX> = {
  [T in EventType]?: (event: EventPayloads[T], context: HandlerContext<TX>) => Promise<void>;
};

export type Handler<TX> = (event: unknown, context: HandlerContext<TX>) => Promise<void>;

/** A received event this consumer has a handler for. */
export interface HandledEvent<TX> extends ReceivedEvent {
  handler: Handler<TX>;
}

/** Picks the handler for the event's type; an event the service does not handle is ignored (its offset still advances). */
export const dispatching =
  <TX>(handlers: EventHandlers<TX>): Policy<ReceivedEvent, HandledEvent<TX>> =>
  (next) =>
  async (received) => {
    const handler = handlers[received.event.type] as Handler<TX> | undefined;
    return handler ? next({ ...received, handler }) : 'ignored';
  };
