import { describe, expect, it } from 'vitest';
import { isFinal, settle } from './order.js';

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

  it('only PENDING_PAYMENT is not final', () => {
    expect([isFinal('PENDING_PAYMENT'), isFinal('PAID'), isFinal('PAYMENT_FAILED')]).toEqual([false, true, true]);
  });
});
