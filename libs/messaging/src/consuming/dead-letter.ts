import type { ProducerRecord } from 'kafkajs';
import { dlqTopicOf } from '@eventflow/events';
import { PoisonMessageError, errorMessage } from '@eventflow/platform';
import { AbandonedMessage, RetriesExhausted, type Delivery, type Policy } from './delivery.js';

/** The dead letter of a message: the original key, value and headers, and why and where it failed. */
export function deadLetterRecord(delivery: Pick<Delivery, 'topic' | 'partition' | 'message' | 'headers'>, error: unknown, groupId: string, failedAt: Date): ProducerRecord {
  const { topic, partition, message, headers } = delivery;
  return {
    topic: dlqTopicOf(groupId),
    acks: -1,
    messages: [
      {
        key: message.key,
        value: message.value,
        headers: {
          ...headers,
          'dlq-error': errorMessage(error),
          'dlq-error-kind': error instanceof PoisonMessageError ? 'poison' : 'retries-exhausted',
          // How often this event has been dead-lettered: a replay carries the count on
          // (dead-letter-attempt), so a replayed message that fails again shows count + 1.
          'dlq-attempt': String((Number(headers['dead-letter-attempt']) || 0) + 1),
          'dlq-original-topic': topic,
          'dlq-original-partition': String(partition),
          'dlq-original-offset': message.offset,
          'dlq-consumer-group': groupId,
          'dlq-failed-at': failedAt.toISOString(),
        },
      },
    ],
  };
}

export interface DeadLetteringOptions {
  /** The consumer group (as Kafka knows it); its dead-letter topic is dlqTopicOf(groupId). */
  groupId: string;
  send: (record: ProducerRecord) => Promise<unknown>;
  isStopping: () => boolean;
  now?: () => Date;
}

/**
 * A message that failed for good (poison, retries exhausted) goes to the group's dead-letter
 * topic, so the partition carries on. A message abandoned by a rebalance or shutdown is not
 * dead-lettered: its offset is not resolved and the next owner or run receives it again.
 */
export const deadLettering =
  (options: DeadLetteringOptions): Policy<Delivery> =>
  (next) =>
  async (delivery) => {
    try {
      return await next(delivery);
    } catch (error) {
      if (error instanceof AbandonedMessage) throw error.cause;
      if (options.isStopping() && !(error instanceof PoisonMessageError) && !(error instanceof RetriesExhausted)) throw error;
      const record = deadLetterRecord(delivery, error, options.groupId, options.now?.() ?? new Date());
      delivery.logger.error({ err: error, dlq: record.topic }, `message sent to the dead-letter topic: ${errorMessage(error)}`);
      await options.send(record);
      return 'dead-lettered';
    }
  };
