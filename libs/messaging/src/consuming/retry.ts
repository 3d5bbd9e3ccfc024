import type { Logger } from '@eventflow/platform';
import { PoisonMessageError, errorMessage } from '@eventflow/platform';
import { classifyFailure, type FailureClass } from '../failures.js';
import { AbandonedMessage, RetriesExhausted } from './delivery.js';

export interface RetryPolicy {
  /**
   * Attempts for failures classifyFailure cannot place before the message is dead-lettered (as
   * `retries-exhausted`, replayable with `npm run events -- replay`). Poison (invalid fields, a
   * data exception or constraint the values violate) is dead-lettered at once; transient failures
   * (connection lost, database restarting, serialization failure, deadlock, RetryableError) are
   * retried without limit: an outage must delay processing, never divert money movements.
   */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetry: RetryPolicy = { maxAttempts: 20, initialDelayMs: 200, maxDelayMs: 10_000 };

/** Exponential backoff: initialDelayMs, doubled per attempt, at most maxDelayMs. */
export const backoffDelayMs = (policy: RetryPolicy, attempt: number): number => Math.min(policy.initialDelayMs * 2 ** (attempt - 1), policy.maxDelayMs);

export interface RetryScope {
  logger: Logger;
  /** kafkajs's heartbeat, sent after each wait; one that fails means a rebalance. */
  heartbeat: () => Promise<void>;
  /** True once the consumer is stopping: a failure is then given up, not retried. */
  isStopping: () => boolean;
  classify?: (error: unknown) => FailureClass;
  /** Waits between attempts (tests pass one that does not). */
  sleep?: (ms: number) => Promise<void>;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt`, retrying transient failures without limit and unknown ones up to maxAttempts
 * (then RetriesExhausted), with exponential backoff. Poison is raised at once as a
 * PoisonMessageError. A failed heartbeat between attempts (a rebalance) raises AbandonedMessage:
 * the message is left unprocessed for the partition's next owner.
 */
export async function retryWithBackoff<R>(policy: RetryPolicy, scope: RetryScope, attempt: (attempt: number) => Promise<R>): Promise<R> {
  const classify = scope.classify ?? classifyFailure;
  const sleep = scope.sleep ?? sleepFor;
  for (let n = 1; ; n += 1) {
    try {
      return await attempt(n);
    } catch (error) {
      const failure = classify(error);
      if (error instanceof PoisonMessageError) throw error;
      if (failure.kind === 'poison') throw new PoisonMessageError(`${errorMessage(error)} (${failure.reason})`, { cause: error });
      if (scope.isStopping()) throw error;
      if (failure.kind === 'unknown' && n >= policy.maxAttempts) throw new RetriesExhausted(error, n);
      const delayMs = backoffDelayMs(policy, n);
      scope.logger.warn({ err: error, attempt: n, delayMs, failure: failure.kind, reason: failure.reason }, `processing failed, retrying: ${errorMessage(error)}`);
      await sleep(delayMs);
      try {
        await scope.heartbeat();
      } catch (rebalance) {
        throw new AbandonedMessage(rebalance);
      }
    }
  }
}
