import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '@eventflow/testing';
import { ensureJwtKeys, serviceEnv, serviceSpec, services, stackEnv, startService, stopService } from '@eventflow/system-harness';

// The roles the services really run with (`stack env`): <SVC>_DATABASE_URL is the runtime role,
// <SVC>_MIGRATION_DATABASE_URL the migration role that owns the tables.
const stack = stackEnv();
const clients: pg.Client[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
});

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}
/** The error a statement fails with; it runs in a transaction that is always rolled back. */
async function refusal(client: pg.Client, sql: string): Promise<string> {
  await client.query('BEGIN');
  try {
    await client.query(sql);
    return 'succeeded';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.query('ROLLBACK');
  }
}
const withDatabase = (url: string, database: string) => Object.assign(new URL(url), { pathname: `/${database}` }).toString();

describe('least-privilege database roles', () => {
  for (const spec of services) {
    it(`${spec.name}: the runtime role reads and writes rows, and may not drop, alter, truncate or create tables`, async () => {
      const runtime = await connect(stack[spec.databaseUrlVar] ?? '');
      const migrator = new URL(stack[spec.migrationDatabaseUrlVar] ?? '').username;
      const { rows: tables } = await runtime.query<{ name: string; owner: string }>(
        "SELECT tablename AS name, tableowner AS owner FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1",
      );
      expect(tables.length).toBeGreaterThan(0);
      for (const { name, owner } of tables) {
        expect(owner, `owner of ${name}`).toBe(migrator);
        expect(await refusal(runtime, `SELECT count(*) FROM "${name}"`)).toBe('succeeded');
        expect(await refusal(runtime, `DELETE FROM "${name}" WHERE false`)).toBe('succeeded');
        expect(await refusal(runtime, `DROP TABLE "${name}"`)).toMatch(/must be owner of table/);
        expect(await refusal(runtime, `ALTER TABLE "${name}" ADD COLUMN intruder int`)).toMatch(/must be owner of table/);
        expect(await refusal(runtime, `TRUNCATE "${name}"`)).toMatch(/permission denied/);
      }
      expect(await refusal(runtime, 'CREATE TABLE intruder (id int)')).toMatch(/permission denied for schema public/);
      const { rows } = await runtime.query<{ owner: string; me: string }>(
        'SELECT pg_get_userbyid(datdba) AS owner, current_user AS me FROM pg_database WHERE datname = current_database()',
      );
      expect(rows[0]?.owner).toBe(migrator);
      expect(rows[0]?.me).not.toBe(migrator);
    });

    it(`${spec.name}: the runtime role may not connect to another service's database, the registry's or the maintenance database`, async () => {
      const own = stack[spec.databaseUrlVar] ?? '';
      const others = services.filter((s) => s !== spec).map((s) => new URL(stack[s.databaseUrlVar] ?? '').pathname.slice(1));
      for (const database of [...others, 'registry', 'postgres']) {
        await expect(connect(withDatabase(own, database)), database).rejects.toThrow(/permission denied for database/);
      }
    });
  }

  it('a service whose database password is wrong is not ready, and its log says why', { timeout: 90_000 }, async () => {
    const spec = serviceSpec('user-service');
    const env = serviceEnv(spec, stack, ensureJwtKeys());
    const wrong = new URL(env['DATABASE_URL'] ?? '');
    wrong.password = 'not-the-password';
    const port = 3191;
    const service = startService(spec, { ...env, DATABASE_URL: wrong.toString() }, { instance: { name: 'wrong-db-password', port } });
    try {
      const answer = await waitFor(
        'readiness to report the refused database login',
        async () => {
          const response = await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined);
          if (!response) return undefined;
          const body = (await response.json()) as { status: string; checks: Record<string, string> };
          return /credentials .* are not valid|password authentication failed/.test(body.checks['database'] ?? '') ? { status: response.status, body } : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      expect(answer).toMatchObject({ status: 503, body: { status: 'not-ready' } });
      const line = await waitFor('a log line naming the refused login', async () =>
        readFileSync(service.logFile, 'utf8')
          .split('\n')
          .find((l) => l.includes('readiness: database failing (not ready)') && l.includes('user_service')),
      );
      expect(JSON.parse(line)).toMatchObject({ level: 40, check: 'database' });
    } finally {
      await stopService(service.id);
    }
  });
});
