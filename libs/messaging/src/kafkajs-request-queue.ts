import { createRequire } from 'node:module';

/** What this fix uses of kafkajs's (untyped, internal) request queue. */
export interface KafkajsRequestQueue {
  /** Requests waiting to be sent. */
  pending: unknown[];
  /** Epoch ms until which the broker throttles this connection; -1 when it never did. */
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}

/**
 * The class every kafkajs connection uses. Loaded by its path inside the kafkajs package (no
 * exports map), which is the same module kafkajs itself loads, from the sources and from a
 * service bundle alike (npm packages stay external in the bundles).
 */
export const KafkajsRequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as {
  prototype: KafkajsRequestQueue;
  new (options: { maxInFlightRequests: number | null; requestTimeout: number; enforceRequestTimeout: boolean; clientId: string; broker: string; logger: unknown }): KafkajsRequestQueue;
};

/** kafkajs's own delay before re-checking requests that wait (CHECK_PENDING_REQUESTS_INTERVAL). */
const recheckPendingMs = 10;

let installed = false;

/**
 * Stops kafkajs's idle timer loop. In kafkajs 2.2.4 (its latest release) every broker connection's
 * request queue re-arms a timer after each check of its pending requests, even when none waits and
 * nothing is throttled, and then with a negative delay, i.e. 1 ms: each open connection wakes the
 * event loop about 1,000 times a second for as long as it is open (tulios/kafkajs#1556, #1604, #1704;
 * the fix proposed in #1667 is not released). `scheduleCheckPendingRequests` was the top self-time
 * frame of an idle service. Here a check is scheduled only when it can do something: requests
 * wait (re-checked as kafkajs does), or the broker's throttling ends later. Nothing else needs the
 * timer: a request that cannot be sent at once goes to `pending` and schedules a check, and every
 * answered request checks the queue itself (`fulfillRequest`).
 *
 * Patches the class's prototype; idempotent. Remove it when kafkajs ships the fix (the test says when).
 */
export function stopKafkajsIdleTimerLoop(): void {
  if (installed) return;
  installed = true;
  KafkajsRequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: KafkajsRequestQueue): void {
    if (this.throttleCheckTimeoutId) return;
    const throttledForMs = this.throttledUntil - Date.now();
    if (this.pending.length === 0 && throttledForMs <= 0) return;
    this.throttleCheckTimeoutId = setTimeout(
      () => {
        this.throttleCheckTimeoutId = null;
        this.checkPendingRequests();
      },
      throttledForMs > 0 ? throttledForMs : recheckPendingMs,
    );
  };
}
