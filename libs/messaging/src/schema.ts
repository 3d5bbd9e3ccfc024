import { fileURLToPath } from 'node:url';

/**
 * A table this library owns and queries in every service's database: its DDL (what each service's
 * migration history must build) and its Prisma model (what each service's schema.prisma must
 * declare). The library is the one definition; services copy it and their migrations test checks
 * the copies (`ownedTablesDriftOf` in @eventflow/testing).
 */
export interface OwnedTable {
  table: string;
  /** Path of the SQL that creates the table, its keys and indexes. */
  sqlPath: string;
  /** Path of the Prisma model fragment. */
  prismaPath: string;
}

const file = (name: string): string => fileURLToPath(new URL(`../prisma/${name}`, import.meta.url));

/** outbox_events: the transactional outbox that OutboxRelay publishes. */
export const outboxTable: OwnedTable = { table: 'outbox_events', sqlPath: file('outbox.sql'), prismaPath: file('outbox.prisma') };

/** processed_events: the inbox of the idempotent consumer. */
export const inboxTable: OwnedTable = { table: 'processed_events', sqlPath: file('inbox.sql'), prismaPath: file('inbox.prisma') };
