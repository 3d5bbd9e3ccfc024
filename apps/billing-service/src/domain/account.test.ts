import { describe, expect, it } from 'vitest';
import { maxBalance } from '@eventflow/platform';
import { debit, deposit, shouldWaitForAccount } from './account.js';

describe('account rules', () => {
  it('adds a deposit to the balance', () => {
    expect(deposit(100n, 250n)).toEqual({ ok: true, balanceAfter: 350n });
  });

  it('refuses a deposit that would pass the balance limit', () => {
    expect(deposit(BigInt(maxBalance), 1n)).toEqual({ ok: false, reason: 'BALANCE_LIMIT_EXCEEDED' });
  });

  it('debits down to exactly zero', () => {
    expect(debit(500n, 500n)).toEqual({ ok: true, balanceAfter: 0n });
  });

  it('never lets the balance go negative', () => {
    expect(debit(499n, 500n)).toEqual({ ok: false, reason: 'INSUFFICIENT_FUNDS' });
  });

  it('rejects non-positive amounts as a programming error', () => {
    expect(() => debit(10n, 0n)).toThrow(RangeError);
    expect(() => deposit(10n, -5n)).toThrow(RangeError);
  });

  it('waits for a missing account only while the order is young', () => {
    expect(shouldWaitForAccount(1_000, 1_500, 1_000)).toBe(true);
    expect(shouldWaitForAccount(1_000, 2_000, 1_000)).toBe(false);
  });
});
