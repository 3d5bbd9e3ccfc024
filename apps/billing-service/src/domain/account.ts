import { check, maxAmount, maxBalance, problemsOf } from '@eventflow/platform';

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

/** What makes an event usable by billing; anything else is dead-lettered rather than retried. */
export const userCreatedProblems = (event: { userId: string }): string[] => problemsOf(check.uuid('userId', event.userId));

export const orderPlacedProblems = (event: { orderId: string; userId: string; price: number }): string[] =>
  problemsOf(check.uuid('orderId', event.orderId), check.uuid('userId', event.userId), check.positiveMinorUnits('price', event.price, maxAmount));
