import type { Logger } from './logger.js';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void>;
}

/**
 * Runs the steps in order on SIGTERM or SIGINT (stop HTTP, then consumers, then the relay, then
 * pools), bounded by a timeout so a stuck dependency cannot keep a pod terminating forever.
 */
export function stopOnSignals(logger: Logger, timeoutMs: number, steps: ShutdownStep[]): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    for (const step of steps) {
      try {
        await step.run();
        logger.info({ step: step.name }, 'stopped');
      } catch (error) {
        logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
    logger.info('shutdown complete');
    logger.flush?.();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
