import { describe, expect, it } from 'vitest';
import { paymentOutcomeProblems, settle } from './order.js';

describe('order settlement', () => {
  it('a confirmed payment makes a pending order PAID', () => {
    expect(settle('PENDING_PAYMENT', { kind: 'succeeded' })).toEqual({ changed: true, status: 'PAID' });
  });

  it('a refused payment makes a pending order PAYMENT_FAILED', () => {
    expect(settle('PENDING_PAYMENT', { kind: 'failed', reason: 'INSUFFICIENT_FUNDS' })).toEqual({ changed: true, status: 'PAYMENT_FAILED' });
  });

  it('a final order never changes again', () => {
    expect(settle('PAID', { kind: 'failed', reason: 'INSUFFICIENT_FUNDS' })).toEqual({ changed: false });
    expect(settle('PAYMENT_FAILED', { kind: 'succeeded' })).toEqual({ changed: false });
  });
});

describe('payment outcome validation', () => {
  const ok = { orderId: '00000000-0000-4000-8000-000000000001', userId: '00000000-0000-4000-8000-000000000002', amount: 700 };

  it('accepts a well-formed outcome and every reason of the schema', () => {
    expect(paymentOutcomeProblems(ok)).toEqual([]);
    for (const reason of ['INSUFFICIENT_FUNDS', 'ACCOUNT_NOT_FOUND', 'UNKNOWN']) expect(paymentOutcomeProblems({ ...ok, reason })).toEqual([]);
  });

  it('refuses an id that is not a UUID, a non-positive amount and an unknown reason', () => {
    expect(paymentOutcomeProblems({ ...ok, orderId: '42', amount: -1, reason: 'CARD_STOLEN' })).toEqual([
      'orderId is not a UUID: "42"',
      'amount must be an integer in 1..10000000000, got -1',
      'reason must be one of INSUFFICIENT_FUNDS, ACCOUNT_NOT_FOUND, UNKNOWN, got "CARD_STOLEN"',
    ]);
  });
});
