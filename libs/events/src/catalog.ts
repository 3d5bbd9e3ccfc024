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
 * `<topic>-<fully qualified record name>`; compatibility is checked per event type. The topic is
 * the one in the namespace (see `kafkaNamespace`), by default this process's.
 */
export const subjectOf = (type: EventType, namespace: string = kafkaNamespace): string => `${namespaced(eventTopics[type], namespace)}-${fullNameOf(type)}`;

export const dlqTopicOf = (consumerGroup: string): string => `${consumerGroup}.dlq`;

/**
 * The names above are a release's names. A process can run the whole system under a namespace,
 * a prefix on every topic, consumer group and (through the topic) registry subject it uses:
 * `npm test` runs its services under `test.`, so its events, poison messages and dead letters
 * never mix with those of the system `npm start` runs on the same Kafka and registry. Set by
 * KAFKA_NAMESPACE ('' or absent: the release's names), read once when this module loads (the
 * services also validate it in their config schema). Declarations (catalogue, topology, the
 * services' subscriptions) use the release's names; the Kafka and registry clients apply
 * `namespaced()` where names meet the broker.
 */
export const kafkaNamespacePattern = '^([a-z0-9][a-z0-9-]*\\.)?$';

export function kafkaNamespaceOf(env: Record<string, string | undefined>): string {
  const value = env['KAFKA_NAMESPACE'] ?? '';
  if (!new RegExp(kafkaNamespacePattern).test(value)) {
    throw new Error(`KAFKA_NAMESPACE must be empty or a lowercase name ending in a dot (e.g. "test."), not ${JSON.stringify(value)}`);
  }
  return value;
}

/** This process's namespace (see above). */
export const kafkaNamespace: string = kafkaNamespaceOf(process.env);

/** A topic, consumer group or subject name in a namespace (by default this process's). */
export const namespaced = (name: string, namespace: string = kafkaNamespace): string => `${namespace}${name}`;

export type { EventMetadata };
