import { afterEach, describe, expect, it } from 'vitest';
import { KafkajsRequestQueue, stopKafkajsIdleTimerLoop, type KafkajsRequestQueue as Queue } from './kafkajs-request-queue.js';

const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const queues: Queue[] = [];
const newQueue = () => {
  const queue = new KafkajsRequestQueue({ maxInFlightRequests: null, requestTimeout: 30_000, enforceRequestTimeout: true, clientId: 'test', broker: '127.0.0.1:9092', logger: silent });
  queues.push(queue);
  return queue;
};
afterEach(() => {
  for (const queue of queues.splice(0)) queue.destroy();
});

describe("kafkajs request queue's idle timer", () => {
  // Runs first: it describes the library as installed. When it fails, kafkajs no longer loops
  // and stopKafkajsIdleTimerLoop can go.
  it('kafkajs 2.2.4 as installed re-arms a timer after checking an empty, unthrottled queue', () => {
    const queue = newQueue();
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
  });

  it('with the fix, an empty unthrottled queue arms no timer; waiting requests and throttling still do', () => {
    stopKafkajsIdleTimerLoop();
    const idle = newQueue();
    idle.checkPendingRequests();
    expect(idle.throttleCheckTimeoutId).toBeNull();

    const waiting = newQueue();
    waiting.pending.push({ placeholder: 'a request that could not be sent yet' });
    waiting.scheduleCheckPendingRequests();
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    waiting.pending.length = 0;

    const throttled = newQueue();
    throttled.throttledUntil = Date.now() + 60_000;
    throttled.scheduleCheckPendingRequests();
    expect(throttled.throttleCheckTimeoutId).not.toBeNull();
  });
});
