import { maxBalance } from '@eventflow/platform';

/**
 * The rules of an account, free of storage and transport: given the balance (read under a row
 * lock) and an amount, what happens.
 */
export type BalanceChange =
  | { ok: true; balanceAfter: bigint }
  | { ok: false; reason: 'INSUFFICIENT_FUNDS' | 'BALANCE_LIMIT_EXCEEDED' };

export function deposit(balance: bigint, amount: bigint): BalanceChange {
  assertPositive(amount);
  const balanceAfter = balance + amount;
  return balanceAfter > BigInt(maxBalance) ? { ok: false, reason: 'BALANCE_LIMIT_EXCEEDED' } : { ok: true, balanceAfter };
}

/** A withdrawal or an order charge: never below zero. */
export function debit(balance: bigint, amount: bigint): BalanceChange {
  assertPositive(amount);
  return amount > balance ? { ok: false, reason: 'INSUFFICIENT_FUNDS' } : { ok: true, balanceAfter: balance - amount };
}

function assertPositive(amount: bigint): void {
  if (amount <= 0n) throw new RangeError(`amount must be positive, got ${amount}`);
}

/**
 * An order for a user whose account is not there yet may simply be ahead of its UserCreated
 * (different topics); it is retried until the event is older than the wait.
 */
export function shouldWaitForAccount(eventOccurredAt: number, now: number, waitMs: number): boolean {
  return now - eventOccurredAt < waitMs;
}
