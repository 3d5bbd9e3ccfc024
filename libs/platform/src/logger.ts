import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { activeTraceIds } from './tracing.js';

export type { Logger } from 'pino';

/** Paths that may carry secrets; pino replaces them before a line is written. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'accessToken',
  '*.accessToken',
  '*.*.accessToken',
  '*.*.password',
];

export function createLogger(service: string, level = 'info', options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const settings: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Every line written inside a span names its trace, so one order can be followed across services.
    mixin: activeTraceIds,
    ...options,
  };
  return destination ? pino(settings, destination) : pino(settings);
}
