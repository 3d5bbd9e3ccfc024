import { fileURLToPath } from 'node:url';

/**
 * The table this library owns in the database of every service whose routes accept an
 * Idempotency-Key: its DDL and its Prisma model, which the services copy and their migrations test
 * checks (`ownedTablesDriftOf` in @eventflow/testing), as @eventflow/messaging/schema does for the
 * outbox and inbox.
 */
export const idempotencyKeysTable = {
  table: 'idempotency_keys',
  sqlPath: fileURLToPath(new URL('../prisma/idempotency.sql', import.meta.url)),
  prismaPath: fileURLToPath(new URL('../prisma/idempotency.prisma', import.meta.url)),
};
