import { defineConfig } from 'prisma/config';

// MIGRATION_DATABASE_URL (the migration role) is only needed by `prisma migrate deploy`; `prisma generate` works without it.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env['MIGRATION_DATABASE_URL'] ?? 'postgresql://localhost/unset' },
});
