import { randomUUID } from 'node:crypto';
import { toMinorUnits } from '@eventflow/platform';
import type { Tx } from './prisma.js';

/**
 * The account aggregate's storage: accounts and their ledger (transactions). Queries, the row
 * lock that serialises changes to one account, and the row-to-view mapping live here; the rules
 * live in domain/account.ts and the steps in application/ledger.ts.
 */

export interface AccountView {
  userId: string;
  balance: number;
  createdAt: string;
  updatedAt: string;
}

export interface TransactionView {
  id: string;
  userId: string;
  kind: 'DEPOSIT' | 'WITHDRAWAL' | 'ORDER_CHARGE';
  amount: number;
  balanceAfter: number;
  orderId: string | null;
  createdAt: string;
}

type TransactionRow = Awaited<ReturnType<Tx['transaction']['create']>>;

const transactionView = (row: TransactionRow): TransactionView => ({
  id: row.id,
  userId: row.userId,
  kind: row.kind,
  amount: toMinorUnits(row.amount),
  balanceAfter: toMinorUnits(row.balanceAfter),
  orderId: row.orderId,
  createdAt: row.createdAt.toISOString(),
});

export async function findAccount(db: Tx, userId: string): Promise<AccountView | null> {
  const account = await db.account.findUnique({ where: { userId } });
  if (!account) return null;
  return {
    userId: account.userId,
    balance: toMinorUnits(account.balance),
    createdAt: account.createdAt.toISOString(),
    updatedAt: account.updatedAt.toISOString(),
  };
}

/** The ledger, newest first; with `orderId`, only that order's charge. */
export async function listTransactions(db: Tx, userId: string, limit: number, orderId?: string): Promise<TransactionView[]> {
  const rows = await db.transaction.findMany({ where: { userId, ...(orderId ? { orderId } : {}) }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
  return rows.map(transactionView);
}

/** Opens the account at zero unless it exists (a redelivered UserCreated changes nothing). */
export async function openAccount(tx: Tx, userId: string): Promise<void> {
  await tx.account.createMany({ data: [{ userId, balance: 0n }], skipDuplicates: true });
}

/** Reads the balance under a row lock (FOR UPDATE), so concurrent changes to one account are serialised; null: no account. */
export async function lockBalance(tx: Tx, userId: string): Promise<bigint | null> {
  const rows = await tx.$queryRaw<Array<{ balance: bigint }>>`SELECT balance FROM accounts WHERE user_id = ${userId}::uuid FOR UPDATE`;
  return rows[0]?.balance ?? null;
}

/** The entry an earlier request with the same idempotency key made, if any. */
export async function findByIdempotencyKey(tx: Tx, userId: string, idempotencyKey: string): Promise<TransactionView | null> {
  const earlier = await tx.transaction.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey } } });
  return earlier && transactionView(earlier);
}

/** Writes the new balance and the ledger entry that explains it. */
export async function recordBalanceChange(
  tx: Tx,
  entry: { userId: string; kind: TransactionView['kind']; amount: bigint; balanceAfter: bigint; orderId?: string; idempotencyKey?: string },
): Promise<TransactionView> {
  await tx.account.update({ where: { userId: entry.userId }, data: { balance: entry.balanceAfter } });
  const row = await tx.transaction.create({
    data: {
      id: randomUUID(),
      userId: entry.userId,
      kind: entry.kind,
      amount: entry.amount,
      balanceAfter: entry.balanceAfter,
      ...(entry.orderId ? { orderId: entry.orderId } : {}),
      idempotencyKey: entry.idempotencyKey ?? null,
    },
  });
  return transactionView(row);
}
