export type OrderStatus = 'PENDING_PAYMENT' | 'PAID' | 'PAYMENT_FAILED';

export type PaymentOutcome = { kind: 'succeeded' } | { kind: 'failed'; reason: string };

/**
 * An order leaves PENDING_PAYMENT exactly once. A second outcome for the same order (a
 * redelivery, or a contradicting message) changes nothing.
 */
export function settle(status: OrderStatus, outcome: PaymentOutcome): { changed: true; status: OrderStatus } | { changed: false } {
  if (status !== 'PENDING_PAYMENT') return { changed: false };
  return { changed: true, status: outcome.kind === 'succeeded' ? 'PAID' : 'PAYMENT_FAILED' };
}

export const isFinal = (status: OrderStatus): boolean => status !== 'PENDING_PAYMENT';
