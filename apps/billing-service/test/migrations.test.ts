import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { findSchemaDrift } from '@eventflow/platform/drift';

it('the committed migrations build exactly the database schema.prisma describes', async () => {
  const drift = await findSchemaDrift({
    adminUrl: process.env['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres',
    schemaPath: fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url)),
    migrationsDir: fileURLToPath(new URL('../prisma/migrations', import.meta.url)),
  });
  expect(drift).toEqual([]);
});
