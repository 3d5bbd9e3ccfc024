import { SpanKind, inSpan } from '@eventflow/platform';
import { eventProcessingDuration, eventsConsumed } from '../metrics.js';
import type { Delivery, Policy } from './delivery.js';

/**
 * kafkajs heartbeats only between messages; a message whose transaction waits (on a row lock, a
 * slow database) must not cost the membership, so the heartbeat goes on every intervalMs while
 * it is processed. A paused process sends none, as it should.
 */
export const keepingAlive =
  (intervalMs: number): Policy<Delivery> =>
  (next) =>
  async (delivery) => {
    const keepAlive = setInterval(() => void delivery.heartbeat().catch(() => undefined), intervalMs);
    try {
      return await next(delivery);
    } finally {
      clearInterval(keepAlive);
    }
  };

/**
 * A consumer span that continues the producer's trace (traceparent header), so one order is one
 * trace; and the consumed-events counter and processing-time histogram, by outcome.
 */
export const observed =
  (groupId: string): Policy<Delivery> =>
  (next) =>
  async (delivery) => {
    const started = process.hrtime.bigint();
    const { topic, headers } = delivery;
    const eventType = headers['event-type'] ?? 'unknown';
    const attributes = { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'messaging.consumer.group.name': groupId, 'eventflow.event_type': eventType };
    const outcome = await inSpan(`${topic} process`, SpanKind.CONSUMER, headers, attributes, () => next(delivery));
    const labels = { consumer_group: groupId, event_type: eventType };
    eventsConsumed.inc({ ...labels, outcome });
    eventProcessingDuration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    return outcome;
  };
