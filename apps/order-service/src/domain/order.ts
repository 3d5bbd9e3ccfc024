import type { PaymentFailureReason } from '@eventflow/events';
import { check, maxAmount, problemsOf } from '@eventflow/platform';

export type OrderStatus = 'PENDING_PAYMENT' | 'PAID' | 'PAYMENT_FAILED';

/** The caller has no order with this id (unknown, or another user's: indistinguishable on purpose). */
export class OrderNotFoundError extends Error {
  constructor(readonly orderId: string) {
    super(`No order ${orderId}.`);
    this.name = 'OrderNotFoundError';
  }
}

export type PaymentOutcome = { kind: 'succeeded' } | { kind: 'failed'; reason: string };

/**
 * An order leaves PENDING_PAYMENT exactly once. A second outcome for the same order (a
 * redelivery, or a contradicting message) changes nothing.
 */
export function settle(status: OrderStatus, outcome: PaymentOutcome): { changed: true; status: OrderStatus } | { changed: false } {
  if (status !== 'PENDING_PAYMENT') return { changed: false };
  return { changed: true, status: outcome.kind === 'succeeded' ? 'PAID' : 'PAYMENT_FAILED' };
}

/** The failure reasons of the PaymentFailed schema; an Avro reader maps a newer producer's reason to UNKNOWN. */
export const paymentFailureReasons = ['INSUFFICIENT_FUNDS', 'ACCOUNT_NOT_FOUND', 'UNKNOWN'] as const satisfies readonly PaymentFailureReason[];

/** What makes a payment outcome usable by order-service; anything else is dead-lettered rather than retried. */
export function paymentOutcomeProblems(event: { orderId: string; userId: string; amount: number; reason?: string }): string[] {
  return problemsOf(
    check.uuid('orderId', event.orderId),
    check.uuid('userId', event.userId),
    check.positiveMinorUnits('amount', event.amount, maxAmount),
    event.reason === undefined ? undefined : check.oneOf('reason', event.reason, paymentFailureReasons),
  );
}
