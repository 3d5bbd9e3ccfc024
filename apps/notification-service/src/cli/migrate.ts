/** Applies this service's committed migrations as the migration role (MIGRATION_DATABASE_URL), locally and in the chart. */
import { fileURLToPath } from 'node:url';
import { migrateFromCli } from '@eventflow/platform/db';

await migrateFromCli(fileURLToPath(new URL('../../prisma/migrations', import.meta.url)));
