/** Refused at once: every hashing slot is busy and the queue is full (the route answers 503 + Retry-After). */
export class PasswordHashingBusyError extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('Too many logins and registrations are being processed; try again shortly.');
    this.name = 'PasswordHashingBusyError';
  }
}

/**
 * At most `maxConcurrent` argon2 computations at once in this process and `maxQueue` waiting;
 * beyond, PasswordHashingBusyError. Argon2 runs on libuv's thread pool: unbounded, a login flood
 * would take all of its threads and queue every other request's work behind minutes of hashing,
 * where a short queue and a quick 503 keep the process answering (health checks included).
 */
export class HashingSlots {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {}

  get busy(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueue) throw new PasswordHashingBusyError(1);
      // The slot is handed over by release(): active stays counted for the waiter.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active += 1;
    }
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
