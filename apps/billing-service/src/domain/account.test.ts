import { describe, expect, it } from 'vitest';
import { maxBalance } from '@eventflow/platform';
import { debit, deposit, orderPlacedProblems, shouldWaitForAccount, userCreatedProblems } from './account.js';

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

describe('event validation', () => {
  const ok = { orderId: '00000000-0000-4000-8000-000000000001', userId: '00000000-0000-4000-8000-000000000002', price: 1500 };

  it('accepts a well-formed OrderPlaced and UserCreated', () => {
    expect(orderPlacedProblems(ok)).toEqual([]);
    expect(userCreatedProblems({ userId: ok.userId })).toEqual([]);
  });

  it('refuses ids that are not UUIDs and prices that are not positive', () => {
    expect(orderPlacedProblems({ ...ok, userId: 'bob', price: 0 })).toEqual(['userId is not a UUID: "bob"', 'price must be an integer in 1..10000000000, got 0']);
    expect(orderPlacedProblems({ ...ok, price: -100 })).toHaveLength(1);
    expect(userCreatedProblems({ userId: '' })).toEqual(['userId is not a UUID: ""']);
  });
});
