import { waitersPresentSql } from '@eventflow/platform/db';
import type { EventTx, Tx } from './prisma.js';

/**
 * Payments: the outcome of charging one order. The primary key (order id) is what makes a
 * second charge of the same order impossible.
 */

// The per-event statements (charging an order) are raw SQL: through the ORM they cost several
// times the CPU of the statement itself (docs/performance.md, "The ORM on the hot path").

export async function paymentExists(tx: EventTx, orderId: string): Promise<boolean> {
  const rows = await tx.$queryRawUnsafe<unknown[]>('SELECT 1 FROM payments WHERE order_id = $1::uuid', orderId);
  return rows.length > 0;
}

/** NOTIFY channel of billing's database: the id of an order whose charge was decided, at commit. */
export const paymentDecidedChannel = 'payment_decided';

export async function recordPayment(
  tx: EventTx,
  payment: { orderId: string; userId: string; amount: bigint } & ({ status: 'SUCCEEDED' } | { status: 'FAILED'; failureReason: string }),
): Promise<void> {
  // One statement: the payment row and, at commit, a NOTIFY to every replica's listener when one
  // has waiters (GET …/transactions?orderId= with Prefer: wait answers then).
  await tx.$executeRawUnsafe(
    `WITH payment AS (
       INSERT INTO payments (order_id, user_id, amount, status, failure_reason) VALUES ($2::uuid, $3::uuid, $4, $5::"PaymentStatus", $6)
     )
     SELECT pg_notify($1, $2::uuid::text) WHERE ${waitersPresentSql('$1')}`,
    paymentDecidedChannel,
    payment.orderId,
    payment.userId,
    payment.amount,
    payment.status,
    payment.status === 'FAILED' ? payment.failureReason : null,
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
