import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, stackEnv } from '@eventflow/system-harness';

// The chart's db-roles SQL (what its Job runs on install and upgrade) on the local PostgreSQL,
// under role and database names of this test's own, so the real ones are not touched.
// On a cold machine the first call builds helm (install-helm.sh: 2-3 minutes), hence the long timeout.
const adminUrl = new URL(stackEnv()['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres');
const tag = `chk${randomUUID().replaceAll('-', '').slice(0, 8)}`;
const components = ['user', 'billing', 'order', 'notification'] as const;
const databaseOf = (c: string) => `${tag}_${c}`;
const runtimeOf = (c: string) => `${tag}_${c}_service`;
const migratorOf = (c: string) => `${tag}_${c}_migrator`;
const password = (role: string) => `pw-${role}`;
const urlOf = (role: string, database: string) =>
  Object.assign(new URL(adminUrl.toString()), { username: role, password: password(role), pathname: `/${database}` }).toString();

function rolesSql(): string {
  const helmBin = execFileSync('bash', [join(repoRoot, 'scripts', 'install-helm.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const settings = [
    ...components.flatMap((c) => [
      `postgresql.databases.${c}.database=${databaseOf(c)}`,
      `postgresql.databases.${c}.username=${runtimeOf(c)}`,
      `postgresql.databases.${c}.migrationUsername=${migratorOf(c)}`,
    ]),
    `postgresql.databases.registry.database=${tag}_registry`,
    `postgresql.databases.registry.username=${tag}_registry`,
  ];
  const manifest = execFileSync(
    join(helmBin, 'helm'),
    ['template', 'eventflow', join(repoRoot, 'charts', 'eventflow'), '-s', 'templates/db-roles.yaml', ...settings.flatMap((s) => ['--set', s])],
    { encoding: 'utf8' },
  );
  const configMap = parseAllDocuments(manifest)
    .map((d) => d.toJS() as { kind: string; data?: Record<string, string> } | null)
    .find((o) => o?.kind === 'ConfigMap');
  const sql = configMap?.data?.['roles.sql'];
  if (!sql) throw new Error('the chart rendered no roles.sql');
  return sql;
}

/** Runs the SQL as the job does: psql, the passwords in the environment variables it names. */
function runAsJob(sql: string): void {
  const env: Record<string, string> = {
    PATH: `/usr/lib/postgresql/15/bin:${process.env['PATH'] ?? ''}`,
    PGHOST: adminUrl.hostname,
    PGPORT: adminUrl.port || '5432',
    PGUSER: decodeURIComponent(adminUrl.username),
    PGPASSWORD: decodeURIComponent(adminUrl.password),
    PGDATABASE: 'postgres',
    PASSWORD_REGISTRY: password(`${tag}_registry`),
  };
  for (const c of components) {
    env[`PASSWORD_${c.toUpperCase()}`] = password(runtimeOf(c));
    env[`MIGRATION_PASSWORD_${c.toUpperCase()}`] = password(migratorOf(c));
  }
  execFileSync('psql', ['-X', '-q', '-f', '-'], { input: sql, env, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

const clients: pg.Client[] = [];
async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  clients.push(client);
  return client;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    for (const database of [...components.map(databaseOf), `${tag}_registry`]) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    for (const role of [...components.flatMap((c) => [runtimeOf(c), migratorOf(c)]), `${tag}_registry`]) await admin.query(`DROP ROLE IF EXISTS ${role}`);
  } finally {
    await admin.end();
  }
});

describe("the chart's db-roles SQL on a real PostgreSQL", () => {
  it('is idempotent, and gives each service a migration role that owns its tables and a runtime role with rows only', { timeout: 600_000 }, async () => {
    const sql = rolesSql();
    runAsJob(sql);
    runAsJob(sql); // every upgrade runs it again

    const migrator = await connect(urlOf(migratorOf('order'), databaseOf('order')));
    await migrator.query('CREATE TABLE orders_probe (id bigserial PRIMARY KEY, note text)'); // a later migration
    const runtime = await connect(urlOf(runtimeOf('order'), databaseOf('order')));
    await runtime.query("INSERT INTO orders_probe (note) VALUES ('granted by default privileges')");
    expect((await runtime.query('SELECT count(*)::int AS n FROM orders_probe')).rows[0]).toEqual({ n: 1 });
    await expect(runtime.query('DROP TABLE orders_probe')).rejects.toThrow(/must be owner of table/);
    await expect(runtime.query('CREATE TABLE intruder (id int)')).rejects.toThrow(/permission denied for schema public/);
    for (const other of [databaseOf('billing'), `${tag}_registry`, 'postgres']) {
      await expect(connect(urlOf(runtimeOf('order'), other)), other).rejects.toThrow(/permission denied for database/);
    }
  });
});
