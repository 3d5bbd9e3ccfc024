import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase } from '@eventflow/platform/db';
import type { OwnedTableDefinition } from './drift.js';

export const pgAdminUrl = (): string => process.env['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database on the local PostgreSQL with the given migrations applied, so a test file
 * neither sees nor leaves behind data (unpublished outbox rows above all) in the service's own
 * database that a running service would then act on.
 */
export async function scratchDatabase(migrationsDir: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `test_${randomUUID().replaceAll('-', '')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  await migrateDatabase({ databaseUrl: url.toString(), migrationsDir });
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Differences between a service's schema.prisma and what its committed migrations build ([] = none). */
export async function schemaDriftOf(serviceRoot: URL): Promise<string[]> {
  const { findSchemaDrift } = await import('./drift.js');
  return findSchemaDrift({
    adminUrl: pgAdminUrl(),
    schemaPath: fileURLToPath(new URL('prisma/schema.prisma', serviceRoot)),
    migrationsDir: fileURLToPath(new URL('prisma/migrations', serviceRoot)),
  });
}

/**
 * Differences between a service's copies of tables a library owns (e.g. outboxTable and
 * inboxTable of @eventflow/messaging/schema) and the library's definition ([] = none).
 */
export async function ownedTablesDriftOf(serviceRoot: URL, owned: OwnedTableDefinition[]): Promise<string[]> {
  const { findOwnedTablesDrift } = await import('./drift.js');
  return findOwnedTablesDrift({
    adminUrl: pgAdminUrl(),
    schemaPath: fileURLToPath(new URL('prisma/schema.prisma', serviceRoot)),
    migrationsDir: fileURLToPath(new URL('prisma/migrations', serviceRoot)),
    owned,
  });
}
