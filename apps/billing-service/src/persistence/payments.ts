import type { Tx } from './prisma.js';

/**
 * Payments: the outcome of charging one order. The primary key (order id) is what makes a
 * second charge of the same order impossible.
 */

export async function paymentExists(tx: Tx, orderId: string): Promise<boolean> {
  return (await tx.payment.findUnique({ where: { orderId } })) !== null;
}

/** NOTIFY channel of billing's database: the id of an order whose charge was decided, at commit. */
export const paymentDecidedChannel = 'payment_decided';

export async function recordPayment(
  tx: Tx,
  payment: { orderId: string; userId: string; amount: bigint } & ({ status: 'SUCCEEDED' } | { status: 'FAILED'; failureReason: string }),
): Promise<void> {
  await tx.payment.create({ data: payment });
  // Delivered at commit to every replica's listener: GET …/transactions?orderId= with Prefer: wait answers then.
  await tx.$executeRaw`SELECT pg_notify(${paymentDecidedChannel}, ${payment.orderId})`;
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
