import type { EventMetadata, EventPayloads } from './generated/events.js';
import { avroSchemas } from './generated/events.js';

export * from './generated/events.js';

export type EventType = keyof EventPayloads;
/** An event's own fields, without the envelope the producer adds. */
export type EventBody<T extends EventType> = Omit<EventPayloads[T], 'metadata'>;

/**
 * Topics are per aggregate, so one aggregate's events keep their order; every event is
 * keyed by user id, so one user's events of a topic stay in one partition.
 */
export const topics = {
  userEvents: 'user-events',
  orderEvents: 'order-events',
  paymentEvents: 'payment-events',
} as const;
export type Topic = (typeof topics)[keyof typeof topics];

export const eventTopics: Record<EventType, Topic> = {
  UserCreated: topics.userEvents,
  OrderPlaced: topics.orderEvents,
  OrderPaid: topics.orderEvents,
  OrderPaymentFailed: topics.orderEvents,
  PaymentSucceeded: topics.paymentEvents,
  PaymentFailed: topics.paymentEvents,
};

export const avroSchemaOf = (type: EventType) => avroSchemas[type];

/** Fully qualified Avro name, e.g. io.eventflow.orders.OrderPlaced. */
export const fullNameOf = (type: EventType): string => `${avroSchemas[type].namespace}.${type}`;

/**
 * Several event types share a topic, so subjects follow Confluent's TopicRecordNameStrategy:
 * `<topic>-<fully qualified record name>`; compatibility is checked per event type.
 */
export const subjectOf = (type: EventType): string => `${eventTopics[type]}-${fullNameOf(type)}`;

export const dlqTopicOf = (consumerGroup: string): string => `${consumerGroup}.dlq`;

export type { EventMetadata };
