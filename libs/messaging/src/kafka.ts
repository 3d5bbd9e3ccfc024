import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { kafkaConnection, type KafkaConnectionSettings } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { stopKafkajsIdleTimerLoop } from './kafkajs-request-queue.js';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client whose own logs go through the service's pino logger, authenticated as the
 * service's principal when the settings carry SASL credentials.
 */
export function createKafka(clientId: string, settings: KafkaConnectionSettings, logger: Logger): Kafka {
  // Every connection of an unpatched kafkajs 2.2.4 runs a 1 ms timer loop; see the function.
  stopKafkajsIdleTimerLoop();
  const kafkaLogger = logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId,
    ...kafkaConnection(settings),
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 200, retries: 8 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        kafkaLogger[levels[level] ?? 'info'](extra, message);
      },
  });
}
