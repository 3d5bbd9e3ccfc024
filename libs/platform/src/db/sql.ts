/**
 * Raw SQL transactions on a plain pg pool, for the per-event hot path (the consumer's inbox
 * transaction and the outbox relay). Same shape as a Prisma client's raw methods and
 * `$transaction(fn)`, so the messaging code and the stores' hot-path functions take either; but
 * without the ORM's interactive-transaction machinery, which cost about 2.3 ms of CPU per
 * transaction on top of the statements themselves (scripts/bench/hotpath.ts: billing's charge
 * transaction 3.7 ms through Prisma's raw methods, 1.4 ms here; docs/performance.md).
 *
 * Values come back as Prisma's raw queries return them: bigint for int8, Date for timestamps,
 * parsed JSON for json/jsonb, strings for uuid and enums.
 */
import pg from 'pg';

/** Transaction client: raw statements inside one transaction (a Prisma transaction client has the same methods). */
export interface SqlTx {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

export interface SqlDb extends SqlTx {
  /** Runs fn in one transaction (READ COMMITTED, like Prisma's): COMMIT when it resolves, ROLLBACK when it throws. */
  $transaction<R>(fn: (tx: SqlTx) => Promise<R>, options?: { maxWait?: number; timeout?: number }): Promise<R>;
  /** Closes the pool. */
  $disconnect(): Promise<void>;
}

const int8 = 20;

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === int8 ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

const executorOf = (client: pg.ClientBase | pg.Pool): SqlTx => ({
  $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => (await client.query({ text: query, values, types })).rows as T,
  $executeRawUnsafe: async (query: string, ...values: unknown[]) => (await client.query({ text: query, values, types })).rowCount ?? 0,
});

/** bigint parameters go to PostgreSQL as their decimal text. */
const toParameter = (value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export interface SqlDbOptions {
  connectionString: string;
  /** Connections in the pool (the pg driver's default is 10, as under Prisma's adapter). */
  max?: number;
  applicationName?: string;
  /** How long a statement or transaction waits for a connection before failing with pg's "timeout exceeded when trying to connect" (default: no limit). */
  connectionTimeoutMs?: number;
}

export function createSqlDb(options: SqlDbOptions): SqlDb {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    ...(options.connectionTimeoutMs ? { connectionTimeoutMillis: options.connectionTimeoutMs } : {}),
  });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const wrap = (executor: SqlTx): SqlTx => ({
    $queryRawUnsafe: (query, ...values) => executor.$queryRawUnsafe(query, ...values.map(toParameter)),
    $executeRawUnsafe: (query, ...values) => executor.$executeRawUnsafe(query, ...values.map(toParameter)),
  });
  const direct = wrap(executorOf(pool));
  return {
    ...direct,
    async $transaction(fn, transactionOptions) {
      const client = await connect(pool, transactionOptions?.maxWait);
      let broken: unknown;
      // A checked-out client has no pool listener: a connection lost between two statements (PostgreSQL
      // restarting) would be an unhandled 'error' event and kill the process. The next statement fails instead.
      const lost = (error: Error) => {
        broken = error;
      };
      client.on('error', lost);
      try {
        // Prisma's `timeout` bounds the whole transaction; here it bounds each statement and each idle gap.
        // One simple-protocol message with the BEGIN: one round trip (and one socket write) instead of three.
        const timeout = transactionOptions?.timeout ? Math.floor(transactionOptions.timeout) : undefined;
        await client.query(
          timeout === undefined
            ? 'BEGIN'
            : `BEGIN; SET LOCAL statement_timeout = ${timeout}; SET LOCAL idle_in_transaction_session_timeout = ${timeout}`,
        );
        const result = await fn(wrap(executorOf(client)));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError;
        });
        throw error;
      } finally {
        // A connection whose ROLLBACK failed is in an unknown state: the pool drops it.
        client.off('error', lost);
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    $disconnect: () => pool.end(),
  };
}

async function connect(pool: pg.Pool, maxWaitMs: number | undefined): Promise<pg.PoolClient> {
  if (!maxWaitMs) return pool.connect();
  let timer: NodeJS.Timeout | undefined;
  const waiting = pool.connect();
  try {
    return await Promise.race([
      waiting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // The connection, when it comes, goes back to the pool unused.
          void waiting.then((client) => client.release()).catch(() => undefined);
          reject(Object.assign(new Error(`timeout exceeded when trying to connect (waited ${maxWaitMs} ms for a pooled connection)`), { code: 'ETIMEDOUT' }));
        }, maxWaitMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
