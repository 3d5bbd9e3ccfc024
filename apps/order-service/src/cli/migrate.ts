/** Applies this service's committed migrations to DATABASE_URL (locally and in the chart's Job). */
import { fileURLToPath } from 'node:url';
import { migrateDatabase } from '@eventflow/platform/db';

const databaseUrl = process.env['DATABASE_URL'];
if (!databaseUrl) {
  console.error('DATABASE_URL is required, e.g. postgres://user:password@host:5432/database');
  process.exit(1);
}
const migrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));
try {
  const { applied } = await migrateDatabase({ databaseUrl, migrationsDir, log: (line) => console.log(line) });
  console.log(applied.length === 0 ? 'database is up to date' : `applied ${applied.length} migration(s)`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
