import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, type Prisma } from '../generated/prisma/client.js';

export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

export const createDb = (databaseUrl: string): Db => new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
