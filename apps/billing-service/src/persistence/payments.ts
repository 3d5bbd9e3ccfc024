import type { Tx } from './prisma.js';

/**
 * Payments: the outcome of charging one order. The primary key (order id) is what makes a
 * second charge of the same order impossible.
 */

export async function paymentExists(tx: Tx, orderId: string): Promise<boolean> {
  return (await tx.payment.findUnique({ where: { orderId } })) !== null;
}

export async function recordPayment(
  tx: Tx,
  payment: { orderId: string; userId: string; amount: bigint } & ({ status: 'SUCCEEDED' } | { status: 'FAILED'; failureReason: string }),
): Promise<void> {
  await tx.payment.create({ data: payment });
}
