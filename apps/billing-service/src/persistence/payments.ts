import { randomUUID } from 'node:crypto';
import { outboxInsert, type OutboxRow } from '@eventflow/messaging';
import { waitersPresentSql } from '@eventflow/platform/db';
import type { EventTx, Tx } from './prisma.js';

/**
 * Payments: the outcome of charging one order. The primary key (order id) is what makes a
 * second charge of the same order impossible.
 */

// The per-event statements (charging an order) are raw SQL, two per order: one that reads what the
// decision needs under the account's lock, one that records the decision. Through the ORM they
// cost several times the CPU of the statements; as five statements, each a round trip that waits
// its turn on a busy machine, they set how long a consumer's batch takes (docs/performance.md).

/** What charging an order needs to decide, in one statement: whether it was charged, and the balance under the account's row lock (null: no account). */
export async function lockForCharge(tx: EventTx, userId: string, orderId: string): Promise<{ charged: boolean; balance: bigint | null }> {
  const [row] = await tx.$queryRawUnsafe<Array<{ charged: boolean; balance: bigint | null }>>(
    `SELECT EXISTS (SELECT 1 FROM payments WHERE order_id = $2::uuid) AS charged,
            (SELECT balance FROM accounts WHERE user_id = $1::uuid FOR UPDATE) AS balance`,
    userId,
    orderId,
  );
  return { charged: row?.charged ?? false, balance: row?.balance ?? null };
}

/** NOTIFY channel of billing's database: the id of an order whose charge was decided, at commit. */
export const paymentDecidedChannel = 'payment_decided';

// $1 is the channel: a NOTIFY to every replica's listener when one has waiters (GET
// …/transactions?orderId= with Prefer: wait answers then), sent at commit.
const notifyDecided = `SELECT pg_notify($1, $2::uuid::text) WHERE ${waitersPresentSql('$1')}`;

/**
 * A successful charge in ONE statement: the new balance, the ledger entry that explains it, the
 * payment (whose primary key makes a second charge of the order impossible), the event, and the
 * NOTIFY. The balance was read under lockForCharge's row lock and the debit decided by the domain.
 */
export async function recordCharge(tx: EventTx, charge: { orderId: string; userId: string; amount: bigint; balanceAfter: bigint }, event: OutboxRow): Promise<void> {
  const published = outboxInsert(event, 7);
  await tx.$executeRawUnsafe(
    `WITH account AS (UPDATE accounts SET balance = $5, updated_at = now() WHERE user_id = $3::uuid),
     entry AS (
       INSERT INTO transactions (id, user_id, kind, amount, balance_after, order_id)
       VALUES ($6::uuid, $3::uuid, 'ORDER_CHARGE', $4, $5, $2::uuid)
     ), payment AS (
       INSERT INTO payments (order_id, user_id, amount, status) VALUES ($2::uuid, $3::uuid, $4, 'SUCCEEDED')
     ), published AS (${published.sql})
     ${notifyDecided}`,
    paymentDecidedChannel,
    charge.orderId,
    charge.userId,
    charge.amount,
    charge.balanceAfter,
    randomUUID(),
    ...published.values,
  );
}

/** A refused charge in one statement: the FAILED payment with its reason, the event, and the NOTIFY. */
export async function recordRefusal(tx: EventTx, refusal: { orderId: string; userId: string; amount: bigint; reason: string }, event: OutboxRow): Promise<void> {
  const published = outboxInsert(event, 6);
  await tx.$executeRawUnsafe(
    `WITH payment AS (
       INSERT INTO payments (order_id, user_id, amount, status, failure_reason) VALUES ($2::uuid, $3::uuid, $4, 'FAILED', $5)
     ), published AS (${published.sql})
     ${notifyDecided}`,
    paymentDecidedChannel,
    refusal.orderId,
    refusal.userId,
    refusal.amount,
    refusal.reason,
    ...published.values,
  );
}

export interface PaymentDecision {
  orderId: string;
  status: 'SUCCEEDED' | 'FAILED';
  failureReason: string | null;
}

/** Billing's decision on one of the user's orders, or null while it has not decided. */
export async function findDecision(db: Tx, userId: string, orderId: string): Promise<PaymentDecision | null> {
  const payment = await db.payment.findUnique({ where: { orderId } });
  return payment && payment.userId === userId ? { orderId, status: payment.status, failureReason: payment.failureReason } : null;
}
