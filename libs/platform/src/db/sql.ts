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

/**
 * Names for the statement texts of a pool, so that pg prepares each text once per connection
 * (Parse) and afterwards only binds and executes it: PostgreSQL then parses and analyses a
 * statement once per connection instead of at every execution. Every hot-path statement is a
 * constant text, run thousands of times. Measured on order-service's placement statement (three
 * CTEs; 2,000 × 3 interleaved, CPU of the PostgreSQL backend from /proc): 0.43-0.54 ms unnamed,
 * 0.28-0.32 ms named; the client's CPU 0.29-0.43 -> 0.22-0.29 ms.
 *
 * Texts past the cap (SQL built with varying text) run unnamed. A schema change under a running
 * process that changes a prepared statement's result columns fails it once with SQLSTATE 0A000
 * ("cached plan must not change result type"); the text then gets a new name, so its next run
 * prepares it again.
 */
class StatementNames {
  private readonly names = new Map<string, string>();
  private issued = 0;

  constructor(private readonly cap: number) {}

  nameOf(text: string): string | undefined {
    let name = this.names.get(text);
    if (name === undefined && this.names.size < this.cap) {
      this.issued += 1;
      name = `eventflow_${this.issued}`;
      this.names.set(text, name);
    }
    return name;
  }

  forget(text: string): void {
    this.names.delete(text);
  }
}

const executorOf = (client: pg.ClientBase | pg.Pool, names: StatementNames | undefined): SqlTx => {
  const run = async (text: string, values: unknown[]): Promise<pg.QueryResult> => {
    const name = names?.nameOf(text);
    try {
      return await client.query(name === undefined ? { text, values, types } : { name, text, values, types });
    } catch (error) {
      if (name !== undefined && (error as { code?: unknown }).code === '0A000') names?.forget(text);
      throw error;
    }
  };
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => (await run(query, values)).rows as T,
    $executeRawUnsafe: async (query: string, ...values: unknown[]) => (await run(query, values)).rowCount ?? 0,
  };
};

/** bigint parameters go to PostgreSQL as their decimal text. */
const toParameter = (value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export interface SqlDbOptions {
  connectionString: string;
  /** Connections in the pool (the pg driver's default is 10, as under Prisma's adapter). */
  max?: number;
  applicationName?: string;
  /** How long a statement or transaction waits for a connection before failing with pg's "timeout exceeded when trying to connect" (default: no limit). */
  connectionTimeoutMs?: number;
  /** Send each distinct statement text as a named (prepared) statement, up to 500 texts (default true; see StatementNames). */
  namedStatements?: boolean;
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
  const names = options.namedStatements === false ? undefined : new StatementNames(500);
  const direct = wrap(executorOf(pool, names));
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
        const result = await fn(wrap(executorOf(client, names)));
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
