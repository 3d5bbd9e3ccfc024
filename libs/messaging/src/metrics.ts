import { Counter, Gauge, Histogram } from 'prom-client';

/** Messaging metrics, in prom-client's default registry, which each service exposes at /metrics. */
export const eventsPublished = new Counter({
  name: 'eventflow_events_published_total',
  help: 'Events the outbox relay published to Kafka, by type',
  labelNames: ['event_type'] as const,
});

export const eventsConsumed = new Counter({
  name: 'eventflow_events_consumed_total',
  help: 'Messages consumed, by event type and outcome (applied, duplicate, ignored, dead-lettered)',
  labelNames: ['consumer_group', 'event_type', 'outcome'] as const,
});

export const eventProcessingDuration = new Histogram({
  name: 'eventflow_event_processing_duration_seconds',
  help: 'Time from receiving a message to committing its effect, retries included',
  labelNames: ['consumer_group', 'event_type'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30],
});

export const outboxBacklog = new Gauge({
  name: 'eventflow_outbox_backlog_events',
  help: 'Outbox rows not yet published',
});

export const outboxOldestAge = new Gauge({
  name: 'eventflow_outbox_oldest_unpublished_age_seconds',
  help: 'Age of the oldest unpublished outbox row (0 when none)',
});

export const consumerLag = new Gauge({
  name: 'eventflow_consumer_lag_messages',
  help: 'Messages between the group committed offset and the end of each partition',
  labelNames: ['consumer_group', 'topic', 'partition'] as const,
});
