import { randomUUID } from 'node:crypto';
import { toMinorUnits } from '@eventflow/platform';
import type { EventTx, Tx } from './prisma.js';

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

type TransactionRow = Pick<Awaited<ReturnType<Tx['transaction']['create']>>, 'id' | 'userId' | 'kind' | 'amount' | 'balanceAfter' | 'orderId' | 'createdAt'>;

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
export async function openAccount(tx: EventTx, userId: string): Promise<void> {
  await tx.$executeRawUnsafe('INSERT INTO accounts (user_id, balance) VALUES ($1::uuid, 0) ON CONFLICT DO NOTHING', userId);
}

/** Reads the balance under a row lock (FOR UPDATE), so concurrent changes to one account are serialised; null: no account. */
export async function lockBalance(tx: EventTx, userId: string): Promise<bigint | null> {
  const rows = await tx.$queryRawUnsafe<Array<{ balance: bigint }>>('SELECT balance FROM accounts WHERE user_id = $1::uuid FOR UPDATE', userId);
  return rows[0]?.balance ?? null;
}

/** One of the user's ledger entries (the one an earlier request with the same Idempotency-Key made). */
export async function findTransaction(tx: Tx, userId: string, id: string): Promise<TransactionView | null> {
  const entry = await tx.transaction.findUnique({ where: { id } });
  return entry && entry.userId === userId ? transactionView(entry) : null;
}

/**
 * Writes the new balance and the ledger entry that explains it: one raw statement, as it runs for
 * every charged order (through the ORM it cost several times the statement itself).
 */
export async function recordBalanceChange(
  tx: EventTx,
  entry: { userId: string; kind: TransactionView['kind']; amount: bigint; balanceAfter: bigint; orderId?: string; idempotencyKey?: string },
): Promise<TransactionView> {
  const [row] = await tx.$queryRawUnsafe<
    Array<{ id: string; user_id: string; kind: TransactionView['kind']; amount: bigint; balance_after: bigint; order_id: string | null; created_at: Date }>
  >(
    `WITH account AS (UPDATE accounts SET balance = $5, updated_at = now() WHERE user_id = $2::uuid)
     INSERT INTO transactions (id, user_id, kind, amount, balance_after, order_id, idempotency_key)
     VALUES ($1::uuid, $2::uuid, $3::"TransactionKind", $4, $5, $6::uuid, $7)
     RETURNING id, user_id, kind, amount, balance_after, order_id, created_at`,
    randomUUID(),
    entry.userId,
    entry.kind,
    entry.amount,
    entry.balanceAfter,
    entry.orderId ?? null,
    entry.idempotencyKey ?? null,
  );
  if (!row) throw new Error(`no ledger entry was written for user ${entry.userId}`);
  return transactionView({
    id: row.id,
    userId: row.user_id,
    kind: row.kind,
    amount: row.amount,
    balanceAfter: row.balance_after,
    orderId: row.order_id,
    createdAt: row.created_at,
  });
}
