import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Type } from 'typebox';
import { Umzug } from 'umzug';
import { loadConfig, migrationConfigSchema } from '../config.js';

/**
 * Applies committed Prisma migrations (prisma/migrations/<name>/migration.sql) without Prisma's
 * native schema engine, and records them in Prisma's own _prisma_migrations table the way
 * `prisma migrate deploy` does, so either tool can take over from the other.
 */

// The key `prisma migrate` itself locks, so this runner and Prisma never migrate at once.
const prismaAdvisoryLockKey = 72_707_369;

const migrationsTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(migrationsDir: string): MigrationFile[] {
  return readdirSync(migrationsDir)
    .filter((name) => statSync(join(migrationsDir, name)).isDirectory())
    .sort()
    .map((name) => {
      const sql = readFileSync(join(migrationsDir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function migrateDatabase(options: {
  databaseUrl: string;
  migrationsDir: string;
  log?: (line: string) => void;
}): Promise<{ applied: string[] }> {
  const files = readMigrations(options.migrationsDir);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [prismaAdvisoryLockKey]);
    await client.query(migrationsTable);
    const { rows } = await client.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL',
    );
    for (const row of rows) {
      if (row.finished_at === null) {
        throw new MigrationError(`migration ${row.migration_name} failed earlier; resolve it (prisma migrate resolve) before migrating again`);
      }
      const file = files.find((f) => f.name === row.migration_name);
      if (file && file.checksum !== row.checksum) {
        throw new MigrationError(`migration ${row.migration_name} was edited after it was applied (checksum differs); add a new migration instead`);
      }
    }
    const umzug = new Umzug<pg.Client>({
      context: client,
      logger: undefined,
      migrations: files.map((file) => ({
        name: file.name,
        // The SQL and its _prisma_migrations row commit together, or neither does.
        up: async ({ context }) => {
          await context.query('BEGIN');
          try {
            await context.query(
              'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
              [randomUUID(), file.checksum, file.name],
            );
            await context.query(file.sql);
            await context.query(
              'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE migration_name = $1 AND finished_at IS NULL',
              [file.name],
            );
            await context.query('COMMIT');
          } catch (error) {
            await context.query('ROLLBACK');
            throw new MigrationError(`migration ${file.name} failed: ${(error as Error).message}`);
          }
        },
      })),
      storage: {
        executed: async ({ context }) =>
          (
            await context.query<{ migration_name: string }>(
              'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
            )
          ).rows.map((r) => r.migration_name),
        // Recorded inside each migration's own transaction (above).
        logMigration: async () => {},
        unlogMigration: async () => {},
      },
    });
    const applied = await umzug.up().catch((error: unknown) => {
      // Umzug wraps what a migration threw; the caller wants the migration's own error.
      const cause = (error as { cause?: unknown }).cause;
      throw cause instanceof MigrationError ? cause : error;
    });
    for (const m of applied) options.log?.(`applied ${m.name}`);
    return { applied: applied.map((m) => m.name) };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [prismaAdvisoryLockKey]).catch(() => undefined);
    await client.end();
  }
}

/**
 * The body of each service's `migrate` command: MIGRATION_DATABASE_URL (the migration role, which
 * owns the tables) from the environment, errors as exit code 1.
 */
export async function migrateFromCli(migrationsDir: string, env: Record<string, string | undefined> = process.env): Promise<void> {
  let databaseUrl: string;
  try {
    databaseUrl = loadConfig('migrate', Type.Object(migrationConfigSchema), env).MIGRATION_DATABASE_URL;
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    console.error('MIGRATION_DATABASE_URL: the migration role, e.g. postgres://user_migrator:password@host:5432/users');
    process.exit(1);
  }
  try {
    const { applied } = await migrateDatabase({ databaseUrl, migrationsDir, log: (line) => console.log(line) });
    console.log(applied.length === 0 ? 'database is up to date' : `applied ${applied.length} migration(s)`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
}
