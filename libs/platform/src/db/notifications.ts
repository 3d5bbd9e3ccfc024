/**
 * Waiting for a row to change without polling: PostgreSQL LISTEN/NOTIFY.
 *
 * The transaction that settles something runs `SELECT pg_notify(<channel>, <key>)`; PostgreSQL
 * delivers it at commit (never for a rolled-back transaction) to every connection that LISTENs on
 * the channel, in every replica. Each process keeps ONE listening connection per channel and a
 * map of key → waiters, so a waiting request costs a map entry and a timer, not a connection or a
 * query per interval; on a notification only the waiters of that key re-read their row once.
 */
import pg from 'pg';

export type WaitOutcome = 'notified' | 'timeout' | 'closed';

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
}

export class NotificationListener {
  private client: pg.Client | undefined;
  private readonly waiters = new Map<string, Set<(outcome: WaitOutcome) => void>>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;

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

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.connectionString, application_name: `listen:${this.options.channel}` });
    client.on('notification', (message) => {
      if (message.channel === this.options.channel) this.wake(message.payload ?? '', 'notified');
    });
    const lost = (error?: Error) => {
      if (this.client !== client || this.closed) return;
      this.client = undefined;
      this.options.logger?.warn({ err: error, channel: this.options.channel }, 'LISTEN connection lost; reconnecting');
      client.end().catch(() => undefined);
      this.reconnectTimer = setTimeout(() => this.reconnect(), this.options.reconnectDelayMs ?? 1_000);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    await client.query(`LISTEN ${client.escapeIdentifier(this.options.channel)}`);
    if (this.closed) {
      await client.end();
      return;
    }
    this.client = client;
  }

  private reconnect(): void {
    if (this.closed) return;
    this.connect()
      // Whatever was notified while nobody listened is lost: every waiter reads its row once more.
      .then(() => this.wakeAll('notified'))
      .catch((error: unknown) => {
        this.options.logger?.warn({ err: error, channel: this.options.channel }, 'LISTEN reconnect failed; retrying');
        this.reconnectTimer = setTimeout(() => this.reconnect(), this.options.reconnectDelayMs ?? 1_000);
      });
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
   * waiting is not lost; wait() then resolves at once.
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
   * only when `key` is notified. Returns the last value read and why it returned.
   */
  async waitUntil<T>(key: string, read: () => Promise<T>, isFinal: (value: T) => boolean, timeoutMs: number): Promise<{ value: T; outcome: 'final' | 'timeout' | 'closed' }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const armed = this.arm(key);
      let value: T;
      try {
        value = await read();
      } catch (error) {
        armed.cancel();
        throw error;
      }
      if (isFinal(value)) {
        armed.cancel();
        return { value, outcome: 'final' };
      }
      const remaining = deadline - Date.now();
      const outcome = remaining > 0 ? await armed.wait(remaining) : 'timeout';
      armed.cancel();
      if (outcome !== 'notified') {
        // One last read: the answer is the current state, final or not.
        const last = await read();
        return { value: last, outcome: isFinal(last) ? 'final' : outcome };
      }
    }
  }

  /** Answers every waiter at once (they read their current state) and stops listening. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.wakeAll('closed');
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
