import { createSqlDb, type SqlDb } from '@eventflow/platform/db';

/**
 * POST /orders' pool: raw SQL on a plain pg pool of its own (placeOrder's one statement), apart
 * from the consumer's (intake cannot take the connections settling needs) and from Prisma's
 * (reads). A request that finds no free connection within 2 s fails with pg's "timeout exceeded
 * when trying to connect", which the HTTP layer answers with 503 + Retry-After, as it did Prisma's
 * transaction wait (maxWait, also 2 s).
 */
export const createPlacementDb = (databaseUrl: string, serviceName: string): SqlDb =>
  createSqlDb({ connectionString: databaseUrl, max: 5, applicationName: `${serviceName} placements`, connectionTimeoutMs: 2_000 });
