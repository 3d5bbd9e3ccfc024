import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlDb } from '../src/db/index.js';

// The local stack's PostgreSQL; a temporary table of this test's own.
const adminUrl = process.env['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres';
const db = createSqlDb({ connectionString: adminUrl, max: 2 });
const table = `sql_test_${randomUUID().replace(/-/g, '')}`;

beforeAll(async () => {
  await db.$executeRawUnsafe(`CREATE TABLE ${table} (id uuid PRIMARY KEY, amount bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(), doc jsonb)`);
});
afterAll(async () => {
  await db.$executeRawUnsafe(`DROP TABLE IF EXISTS ${table}`);
  await db.$disconnect();
});

describe('createSqlDb (raw SQL on a pg pool, the consumer hot path)', () => {
  it('returns values as Prisma raw queries do: bigint, Date, parsed JSON; takes bigint parameters', async () => {
    const id = randomUUID();
    const big = 9_007_199_254_740_993n; // above Number.MAX_SAFE_INTEGER
    expect(await db.$executeRawUnsafe(`INSERT INTO ${table} (id, amount, doc) VALUES ($1::uuid, $2, $3::jsonb)`, id, big, JSON.stringify({ a: 1 }))).toBe(1);
    const [row] = await db.$queryRawUnsafe<Array<{ id: string; amount: bigint; at: Date; doc: unknown; n: bigint }>>(
      `SELECT id, amount, at, doc, count(*) OVER () AS n FROM ${table} WHERE id = $1::uuid`,
      id,
    );
    expect(row).toMatchObject({ id, amount: big, doc: { a: 1 }, n: 1n });
    expect(row?.at).toBeInstanceOf(Date);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const kept = randomUUID();
    const dropped = randomUUID();
    await db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, amount) VALUES ($1::uuid, 1)`, kept);
    });
    await expect(
      db.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, amount) VALUES ($1::uuid, 1)`, dropped);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    const ids = (await db.$queryRawUnsafe<Array<{ id: string }>>(`SELECT id FROM ${table} WHERE id = ANY($1::uuid[])`, [kept, dropped])).map((r) => r.id);
    expect(ids).toEqual([kept]);
  });

  it('a failed statement rolls the whole transaction back with its SQLSTATE, and the pool stays usable', async () => {
    const id = randomUUID();
    const failure = await db
      .$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, amount) VALUES ($1::uuid, 1)`, id);
        await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, amount) VALUES ($1::uuid, 1)`, id);
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: '23505', severity: 'ERROR' }); // what classifyFailure reads
    expect(await db.$queryRawUnsafe(`SELECT id FROM ${table} WHERE id = $1::uuid`, id)).toEqual([]);
    expect(await db.$queryRawUnsafe('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('bounds the statements and idle gaps of a transaction with its timeout, and only inside it', async () => {
    const settings = 'SELECT current_setting($1) AS statement, current_setting($2) AS idle';
    const names = ['statement_timeout', 'idle_in_transaction_session_timeout'];
    const defaults = await db.$queryRawUnsafe(settings, ...names);
    const inside = await db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, amount) VALUES ($1::uuid, 1)`, randomUUID());
      return tx.$queryRawUnsafe(settings, ...names);
    }, { timeout: 1_500 });
    expect(inside).toEqual([{ statement: '1500ms', idle: '1500ms' }]);
    // A statement that waits for a lock another transaction holds is cancelled after the timeout.
    const lockKey = 770_001;
    let release!: () => void;
    let locked!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.$transaction(async (tx) => {
      await tx.$queryRawUnsafe('SELECT pg_advisory_xact_lock($1)', lockKey);
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await holding;
    try {
      await expect(db.$transaction((tx) => tx.$queryRawUnsafe('SELECT pg_advisory_xact_lock($1)', lockKey), { timeout: 200 })).rejects.toMatchObject({
        code: '57014', // query_canceled: statement timeout
      });
    } finally {
      release();
      await holder;
    }
    // SET LOCAL: both pooled connections are back to the server's defaults for the next transactions.
    const after = await Promise.all([0, 1].map(() => db.$transaction((tx) => tx.$queryRawUnsafe(settings, ...names))));
    expect(after).toEqual([defaults, defaults]);
  });

  it('gives up waiting for a pooled connection after maxWait', async () => {
    const release: Array<() => void> = [];
    const holders = [0, 1].map(() => db.$transaction(() => new Promise<void>((resolve) => release.push(resolve))));
    await expect.poll(() => release.length).toBe(2);
    await expect(db.$transaction(async () => undefined, { maxWait: 100 })).rejects.toThrow(/timeout exceeded when trying to connect/);
    for (const done of release) done();
    await Promise.all(holders);
  });

  it('survives a connection lost between two statements of a transaction (PostgreSQL restarting)', async () => {
    const other = createSqlDb({ connectionString: adminUrl, max: 1 });
    try {
      const failure = await db
        .$transaction(async (tx) => {
          const [me] = await tx.$queryRawUnsafe<Array<{ pid: number }>>('SELECT pg_backend_pid() AS pid');
          // Terminated while this client is idle in the transaction: the driver reports it as an 'error'
          // event on the checked-out client, which must not be unhandled (it would end the process).
          await other.$queryRawUnsafe('SELECT pg_terminate_backend($1)', me?.pid);
          for (let tries = 0; tries < 100; tries++) {
            const alive = await other.$queryRawUnsafe<Array<{ n: bigint }>>('SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1', me?.pid);
            if (alive[0]?.n === 0n) break;
          }
          await tx.$executeRawUnsafe(`INSERT INTO ${table} (id, amount) VALUES ($1::uuid, 1)`, randomUUID());
        })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(await db.$queryRawUnsafe('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await other.$disconnect();
    }
  });
  it('prepares each statement text once per connection, and prepares it again after a schema change alters its result', async () => {
    const single = createSqlDb({ connectionString: adminUrl, max: 1 });
    const prepared = `sql_prepared_${randomUUID().replace(/-/g, '')}`;
    try {
      await single.$executeRawUnsafe(`CREATE TABLE ${prepared} (a int)`);
      await single.$executeRawUnsafe(`INSERT INTO ${prepared} VALUES (1)`);
      const read = `SELECT a FROM ${prepared}`;
      expect(await single.$queryRawUnsafe(read)).toEqual([{ a: 1 }]);
      expect(await single.$queryRawUnsafe(read)).toEqual([{ a: 1 }]);
      expect(await single.$queryRawUnsafe('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement = $1', read)).toEqual([{ n: 1 }]);
      // A migration under the running process: the prepared statement's result type changes once.
      await single.$executeRawUnsafe(`ALTER TABLE ${prepared} ALTER COLUMN a TYPE bigint`);
      await expect(single.$queryRawUnsafe(read)).rejects.toMatchObject({ code: '0A000' });
      expect(await single.$queryRawUnsafe(read)).toEqual([{ a: 1n }]);
      const unnamed = createSqlDb({ connectionString: adminUrl, max: 1, namedStatements: false });
      try {
        expect(await unnamed.$queryRawUnsafe(read)).toEqual([{ a: 1n }]);
        expect(await unnamed.$queryRawUnsafe('SELECT count(*)::int AS n FROM pg_prepared_statements')).toEqual([{ n: 0 }]);
      } finally {
        await unnamed.$disconnect();
      }
    } finally {
      await single.$executeRawUnsafe(`DROP TABLE IF EXISTS ${prepared}`);
      await single.$disconnect();
    }
  });
});
