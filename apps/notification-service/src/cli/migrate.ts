/** Applies this service's committed migrations to DATABASE_URL (locally and in the chart's Job). */
import { fileURLToPath } from 'node:url';
import { migrateFromCli } from '@eventflow/platform/db';

await migrateFromCli(fileURLToPath(new URL('../../prisma/migrations', import.meta.url)));
