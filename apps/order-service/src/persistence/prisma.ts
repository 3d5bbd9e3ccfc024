import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;
/**
 * The consumer's transaction: raw SQL only (a plain pg pool's, or a Prisma transaction client,
 * which has the same raw methods). Everything an event handler writes goes through it.
 */
export type { SqlTx as EventTx } from '@eventflow/platform/db';

export const createDb = (databaseUrl: string): Db => new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
