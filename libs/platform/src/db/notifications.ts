/**
 * Waiting for a row to change without polling: PostgreSQL LISTEN/NOTIFY, sent only while someone waits.
 *
 * The transaction that settles something runs `notifyWaiters(tx, <channel>, <key>)`; PostgreSQL
 * delivers the notification at commit (never for a rolled-back transaction) to every connection
 * that LISTENs on the channel, in every replica. Each process keeps ONE listening connection per
 * channel and a map of key → waiters, so a waiting request costs a map entry and a timer, not a
 * connection or a query per interval; on a notification only the waiters of that key re-read
 * their row once.
 *
 * Why NOTIFY only while someone waits: PostgreSQL serialises the commits of every transaction
 * that NOTIFYs in the whole cluster (a global lock from pre-commit until the commit record is
 * flushed, so the queue stays in commit order); on this machine that halves the commit rate
 * (docs/performance.md). Almost no settling transaction has a reader waiting for it, so the flag
 * "some process has waiters on this channel" is read first, and it is a lock, not a row:
 *
 * - A process with waiters holds an exclusive session advisory lock (hashtext(channel), slot) on
 *   its listening connection; each process claims a slot of its own at start (slots 0–15).
 * - A settling transaction takes the shared transaction-level lock of every slot with try-lock
 *   (never waits) and NOTIFYs unless it got all of them, i.e. when some slot is held or wanted.
 *
 * No notification is missed: a process takes its slot's lock before its waiters read, and the
 * lock is granted only after every settling transaction that got the shared lock (and so did not
 * notify) has committed, so the read sees their effect; a transaction that tries after the lock
 * was requested does not get it and notifies. A process that cannot claim a slot, or cannot take
 * its lock, re-reads every `fallbackPollMs` instead.
 */
import pg from 'pg';

export type WaitOutcome = 'notified' | 'timeout' | 'closed';

/** Advisory-lock slots per channel: processes with waiters at once. A process beyond them polls. */
export const waiterSlots = 16;

/** The slice of a Prisma transaction client (or any SQL executor) notifyWaiters needs. */
export interface RawExecutor {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/**
 * SQL that is true when some process has waiters on channel `$n` (a text parameter): some slot's
 * lock is held or wanted. Inside the settling transaction, for statements that fold the check in.
 */
export const waitersPresentSql = (channelParameter: string): string =>
  `NOT (SELECT bool_and(pg_try_advisory_xact_lock_shared(hashtext(${channelParameter}), slot)) FROM generate_series(0, ${waiterSlots - 1}) AS slot)`;

/**
 * Inside the settling transaction: NOTIFY `key` on `channel` at commit if some process has
 * waiters on the channel. True when it will notify.
 */
export async function notifyWaiters(tx: RawExecutor, channel: string, key: string): Promise<boolean> {
  return (await tx.$executeRawUnsafe(`SELECT pg_notify($1, $2) WHERE ${waitersPresentSql('$1')}`, channel, key)) > 0;
}

interface Logger {
  warn(object: object, message: string): void;
}

interface Armed {
  /** Resolves on a notification of the key, after `timeoutMs`, or at once when the listener closes. */
  wait(timeoutMs: number): Promise<WaitOutcome>;
  cancel(): void;
}

export interface NotificationListenerOptions {
  connectionString: string;
  channel: string;
  logger?: Logger;
  /** Delay before reconnecting after the listening connection is lost. */
  reconnectDelayMs?: number;
  /** Re-read interval of waiters when the process has no slot or could not take its lock. */
  fallbackPollMs?: number;
  /** How long the slot's lock is kept after the last waiter left (saves lock/unlock churn). */
  releaseDelayMs?: number;
}

export class NotificationListener {
  private client: pg.Client | undefined;
  private readonly waiters = new Map<string, Set<(outcome: WaitOutcome) => void>>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** This process's slot on the current connection; undefined: none free (or not connected). */
  private slot: number | undefined;
  /** The slot's exclusive lock is held (settling transactions NOTIFY) or being taken. */
  private raising: Promise<boolean> | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private held = false;

  constructor(private readonly options: NotificationListenerOptions) {}

  /** Connects and LISTENs; resolves once notifications are being received. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Waiting requests right now. */
  get waiting(): number {
    let count = 0;
    for (const set of this.waiters.values()) count += set.size;
    return count;
  }

  /** Whether settling transactions NOTIFY for this process now (its slot's lock is held). */
  get watched(): boolean {
    return this.held;
  }

  private async connect(): Promise<void> {
    const { channel } = this.options;
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: `listen:${channel}` });
    client.on('notification', (message) => {
      if (message.channel === channel) this.wake(message.payload ?? '', 'notified');
    });
    const lost = (error?: Error) => {
      if (this.client !== client || this.closed) return;
      this.client = undefined;
      this.slot = undefined;
      this.raising = undefined;
      this.held = false;
      this.options.logger?.warn({ err: error, channel }, 'LISTEN connection lost; reconnecting');
      client.end().catch(() => undefined);
      this.reconnectTimer = setTimeout(() => this.reconnect(), this.options.reconnectDelayMs ?? 1_000);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    // Waiting for the slot's lock waits for settling transactions in flight, which are short; a
    // stuck one must not hold the waiters (they poll instead).
    await client.query(`SET lock_timeout = '2s'`);
    await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    // The claim is a second lock key per slot, held for the connection's life: the slot is this process's.
    const { rows } = await client.query<{ slot: number | null }>(
      `SELECT (SELECT slot FROM generate_series(0, $2::int - 1) AS slot WHERE pg_try_advisory_lock(hashtext($1::text || ':claim'), slot) LIMIT 1) AS slot`,
      [channel, waiterSlots],
    );
    const slot = rows[0]?.slot ?? undefined;
    if (slot === undefined) this.options.logger?.warn({ channel, slots: waiterSlots }, 'every NOTIFY slot is taken; waiters here poll');
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
    this.slot = slot;
    this.raising = undefined;
    this.held = false;
  }

  private reconnect(): void {
    if (this.closed) return;
    this.connect()
      // Whatever was notified while nobody listened is lost: every waiter reads its row once more
      // (after the slot's lock is held again, so that nothing is missed from then on).
      .then(() => (this.waiting > 0 ? this.raise() : false))
      .then(() => this.wakeAll('notified'))
      .catch((error: unknown) => {
        this.options.logger?.warn({ err: error, channel: this.options.channel }, 'LISTEN reconnect failed; retrying');
        this.reconnectTimer = setTimeout(() => this.reconnect(), this.options.reconnectDelayMs ?? 1_000);
      });
  }

  /**
   * Makes settling transactions NOTIFY this channel: takes this process's slot lock (once; it
   * stays while there are waiters). Resolves true once every settling transaction that will not
   * notify has committed; false when that cannot be had (then the waiter polls).
   */
  private raise(): Promise<boolean> {
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
    if (this.raising) return this.raising;
    const { client, slot } = this;
    if (!client || slot === undefined || this.closed) return Promise.resolve(false);
    const raising = client
      .query('SELECT pg_advisory_lock(hashtext($1), $2)', [this.options.channel, slot])
      .then(() => {
        this.held = this.raising === raising;
        return true;
      })
      .catch((error: unknown) => {
        if (this.raising === raising) this.raising = undefined;
        this.options.logger?.warn({ err: error, channel: this.options.channel }, 'could not take the NOTIFY slot lock; waiters poll');
        return false;
      });
    this.raising = raising;
    return raising;
  }

  /** After the last waiter left (and a grace period): settling transactions stop notifying for this process. */
  private releaseWhenIdle(): void {
    if (this.waiting > 0 || !this.raising || this.releaseTimer) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      const { client, raising, slot } = this;
      if (this.waiting > 0 || !raising || !client || slot === undefined) return;
      this.raising = undefined;
      this.held = false;
      void raising
        .then((held) => (held ? client.query('SELECT pg_advisory_unlock(hashtext($1), $2)', [this.options.channel, slot]) : undefined))
        .catch(() => undefined);
    }, this.options.releaseDelayMs ?? 2_000);
    this.releaseTimer.unref();
  }

  private wake(key: string, outcome: WaitOutcome): void {
    const set = this.waiters.get(key);
    if (!set) return;
    this.waiters.delete(key);
    for (const resolve of set) resolve(outcome);
  }

  private wakeAll(outcome: WaitOutcome): void {
    for (const key of [...this.waiters.keys()]) this.wake(key, outcome);
  }

  /**
   * Registers interest in `key` now, so a notification that arrives between reading the row and
   * waiting is not lost; wait() then resolves at once. Settling transactions notify only after
   * `waitUntil` raised the slot lock; a bare arm() hears only what is notified anyway.
   */
  arm(key: string): Armed {
    let fired: WaitOutcome | undefined = this.closed ? 'closed' : undefined;
    let settle: ((outcome: WaitOutcome) => void) | undefined;
    const listener = (outcome: WaitOutcome) => {
      fired = outcome;
      settle?.(outcome);
    };
    const remove = () => {
      const set = this.waiters.get(key);
      set?.delete(listener);
      if (set?.size === 0) this.waiters.delete(key);
      this.releaseWhenIdle();
    };
    if (!fired) {
      const set = this.waiters.get(key) ?? new Set();
      set.add(listener);
      this.waiters.set(key, set);
    }
    return {
      cancel: remove,
      wait: (timeoutMs) =>
        fired
          ? Promise.resolve(fired)
          : new Promise<WaitOutcome>((resolve) => {
              const timer = setTimeout(() => {
                remove();
                resolve('timeout');
              }, timeoutMs);
              settle = (outcome) => {
                clearTimeout(timer);
                resolve(outcome);
              };
            }),
    };
  }

  /**
   * Reads with `read` until `isFinal` holds, the time is up, or the listener closes, re-reading
   * when `key` is notified (or every `fallbackPollMs` while settling transactions cannot be told
   * to notify). Returns the last value read and why it returned.
   */
  async waitUntil<T>(key: string, read: () => Promise<T>, isFinal: (value: T) => boolean, timeoutMs: number): Promise<{ value: T; outcome: 'final' | 'timeout' | 'closed' }> {
    const deadline = Date.now() + timeoutMs;
    const pollMs = this.options.fallbackPollMs ?? 250;
    for (;;) {
      const armed = this.arm(key);
      let value: T;
      try {
        const watched = await this.raise();
        value = await read();
        if (isFinal(value)) {
          armed.cancel();
          return { value, outcome: 'final' };
        }
        const remaining = deadline - Date.now();
        const outcome = remaining > 0 ? await armed.wait(watched ? remaining : Math.min(remaining, pollMs)) : 'timeout';
        armed.cancel();
        if (outcome === 'timeout' && !watched && Date.now() < deadline) continue;
        if (outcome !== 'notified') {
          // One last read: the answer is the current state, final or not.
          const last = await read();
          return { value: last, outcome: isFinal(last) ? 'final' : outcome };
        }
      } catch (error) {
        armed.cancel();
        throw error;
      }
    }
  }

  /** Answers every waiter at once (they read their current state) and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.releaseTimer);
    this.wakeAll('closed');
    const client = this.client;
    this.client = undefined;
    this.raising = undefined;
    this.held = false;
    // Ending the session releases its advisory locks.
    await client?.end().catch(() => undefined);
  }
}
