import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { MigrationError, migrateDatabase, readMigrations } from '../src/db/index.js';

// Each test gets a scratch database on the local stack's PostgreSQL.
const adminUrl = process.env['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres';
const scratch: string[] = [];

async function admin<T extends pg.QueryResultRow>(sql: string, url = adminUrl): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function scratchDatabase(): Promise<string> {
  const name = `migrate_test_${randomUUID().replaceAll('-', '')}`;
  await admin(`CREATE DATABASE ${name}`);
  scratch.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const tempDirs: string[] = [];

function migrationsDir(migrations: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  tempDirs.push(dir);
  for (const [name, sql] of Object.entries(migrations)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  return dir;
}

afterAll(async () => {
  tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  for (const name of scratch) await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe('migrateDatabase', () => {
  const migrations = {
    '20260101000000_init': 'CREATE TABLE things (id INT PRIMARY KEY);',
    '20260102000000_more': 'ALTER TABLE things ADD COLUMN name TEXT;',
  };

  it("applies pending migrations once, in order, recorded in Prisma's table with sha256 checksums", async () => {
    const databaseUrl = await scratchDatabase();
    const dir = migrationsDir(migrations);
    expect(await migrateDatabase({ databaseUrl, migrationsDir: dir })).toEqual({ applied: Object.keys(migrations) });
    expect(await migrateDatabase({ databaseUrl, migrationsDir: dir })).toEqual({ applied: [] });
    const rows = await admin<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
      databaseUrl,
    );
    expect(rows.map((r) => [r.migration_name, r.checksum, r.applied_steps_count])).toEqual(
      readMigrations(dir).map((m) => [m.name, m.checksum, 1]),
    );
    expect(rows.every((r) => r.finished_at instanceof Date)).toBe(true);
  });

  it('refuses to run when an applied migration was edited afterwards', async () => {
    const databaseUrl = await scratchDatabase();
    await migrateDatabase({ databaseUrl, migrationsDir: migrationsDir(migrations) });
    const edited = migrationsDir({ ...migrations, '20260101000000_init': 'CREATE TABLE things (id BIGINT PRIMARY KEY);' });
    await expect(migrateDatabase({ databaseUrl, migrationsDir: edited })).rejects.toThrow(/edited after it was applied/);
  });

  it('rolls a failing migration back entirely and records nothing for it', async () => {
    const databaseUrl = await scratchDatabase();
    const dir = migrationsDir({ ...migrations, '20260103000000_broken': 'CREATE TABLE half (id INT); SELECT no_such_function();' });
    await expect(migrateDatabase({ databaseUrl, migrationsDir: dir })).rejects.toBeInstanceOf(MigrationError);
    expect(await admin("SELECT 1 FROM information_schema.tables WHERE table_name = 'half'", databaseUrl)).toEqual([]);
    const recorded = await admin<{ migration_name: string }>('SELECT migration_name FROM "_prisma_migrations" ORDER BY 1', databaseUrl);
    expect(recorded.map((r) => r.migration_name)).toEqual(Object.keys(migrations));
  });

  it('applies each migration exactly once when several runners start together', async () => {
    const databaseUrl = await scratchDatabase();
    const dir = migrationsDir(migrations);
    const results = await Promise.all(Array.from({ length: 4 }, () => migrateDatabase({ databaseUrl, migrationsDir: dir })));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(Object.keys(migrations));
  });
});
