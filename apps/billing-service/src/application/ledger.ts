import type { OrderPlaced, UserCreated } from '@eventflow/events';
import { claimIdempotencyKey, pruneIdempotencyKeys, recordIdempotentResult, type IdempotencyKey } from '@eventflow/http';
import type { EventContext } from '@eventflow/messaging';
import { outboxRow } from '@eventflow/messaging';
import { RetryableError, toMinorUnits } from '@eventflow/platform';
import { debit, deposit, shouldWaitForAccount, type BalanceChange } from '../domain/account.js';
import * as accounts from '../persistence/accounts.js';
import type { AccountView, TransactionView } from '../persistence/accounts.js';
import * as payments from '../persistence/payments.js';
import type { Db, EventTx } from '../persistence/prisma.js';

export type { AccountView, TransactionView } from '../persistence/accounts.js';

export type BillingErrorCode = 'ACCOUNT_NOT_FOUND' | 'INSUFFICIENT_FUNDS' | 'BALANCE_LIMIT_EXCEEDED';

export class BillingError extends Error {
  constructor(
    readonly code: BillingErrorCode,
    message: string,
    readonly balance?: number,
  ) {
    super(message);
    this.name = 'BillingError';
  }
}

export interface LedgerOptions {
  producer: string;
  accountWaitMs: number;
  now?: () => number;
}

/** Billing's use cases: the HTTP routes and the event handlers both come through here. */
export class Ledger {
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    private readonly options: LedgerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  getAccount(userId: string): Promise<AccountView | null> {
    return accounts.findAccount(this.db, userId);
  }

  listTransactions(userId: string, limit: number, orderId?: string): Promise<TransactionView[]> {
    return accounts.listTransactions(this.db, userId, limit, orderId);
  }

  decisionOn(userId: string, orderId: string): Promise<payments.PaymentDecision | null> {
    return payments.findDecision(this.db, userId, orderId);
  }

  deposit(userId: string, amount: number, idempotency?: IdempotencyKey): Promise<{ transaction: TransactionView; replayed: boolean }> {
    return this.changeBalance(userId, 'DEPOSIT', amount, idempotency, deposit);
  }

  withdraw(userId: string, amount: number, idempotency?: IdempotencyKey): Promise<{ transaction: TransactionView; replayed: boolean }> {
    return this.changeBalance(userId, 'WITHDRAWAL', amount, idempotency, debit);
  }

  /** Forgets the Idempotency-Keys older than their retention; returns how many. */
  pruneIdempotencyKeys(): Promise<number> {
    return pruneIdempotencyKeys(this.db);
  }

  private async changeBalance(
    userId: string,
    kind: 'DEPOSIT' | 'WITHDRAWAL',
    amount: number,
    idempotency: IdempotencyKey | undefined,
    rule: (balance: bigint, amount: bigint) => BalanceChange,
  ): Promise<{ transaction: TransactionView; replayed: boolean }> {
    return this.db.$transaction(async (tx) => {
      if (idempotency) {
        // Same key and request, same answer: a client retrying after a timeout does not pay twice.
        // The key is claimed first, so a concurrent request with it waits here for this one's outcome.
        const earlier = await claimIdempotencyKey(tx, userId, idempotency);
        if (earlier) {
          const transaction = await accounts.findTransaction(tx, userId, earlier);
          if (!transaction) throw new Error(`Idempotency-Key record of user ${userId} names a missing ledger entry ${earlier}`);
          return { transaction, replayed: true };
        }
      }
      const balance = await accounts.lockBalance(tx, userId);
      if (balance === null) throw new BillingError('ACCOUNT_NOT_FOUND', `No account for user ${userId}.`);
      const change = rule(balance, BigInt(amount));
      if (!change.ok) {
        const message =
          change.reason === 'INSUFFICIENT_FUNDS'
            ? `The balance ${balance} is lower than the amount ${amount}.`
            : `The balance would exceed the limit.`;
        throw new BillingError(change.reason, message, toMinorUnits(balance));
      }
      const transaction = await accounts.recordBalanceChange(tx, {
        userId,
        kind,
        amount: BigInt(amount),
        balanceAfter: change.balanceAfter,
        ...(idempotency ? { idempotencyKey: idempotency.key } : {}),
      });
      if (idempotency) await recordIdempotentResult(tx, userId, idempotency, transaction.id);
      return { transaction, replayed: false };
    });
  }

  /** UserCreated: every user gets exactly one account, starting at zero. */
  async openAccount(tx: EventTx, event: UserCreated): Promise<void> {
    await accounts.openAccount(tx, event.userId);
  }

  /**
   * OrderPlaced: charge the price at most once per order (payments is keyed by order id) and
   * tell the outcome through the outbox, in the same transaction.
   */
  async chargeOrder(tx: EventTx, event: OrderPlaced, context: EventContext): Promise<'SUCCEEDED' | 'FAILED' | 'ALREADY_CHARGED'> {
    const { orderId, userId, price } = event;
    const { charged, balance } = await payments.lockForCharge(tx, userId, orderId);
    if (charged) return 'ALREADY_CHARGED';
    if (balance === null) {
      if (shouldWaitForAccount(event.metadata.occurredAt, this.now(), this.options.accountWaitMs)) {
        throw new RetryableError(`no account for user ${userId} yet; its UserCreated may not have arrived`);
      }
      return this.refuse(tx, event, 'ACCOUNT_NOT_FOUND', context);
    }
    const change = debit(balance, BigInt(price));
    if (!change.ok) return this.refuse(tx, event, 'INSUFFICIENT_FUNDS', context);

    await payments.recordCharge(
      tx,
      { orderId, userId, amount: BigInt(price), balanceAfter: change.balanceAfter },
      outboxRow('PaymentSucceeded', { orderId, userId, amount: price, balanceAfter: toMinorUnits(change.balanceAfter) }, context),
    );
    return 'SUCCEEDED';
  }

  private async refuse(tx: EventTx, event: OrderPlaced, reason: 'ACCOUNT_NOT_FOUND' | 'INSUFFICIENT_FUNDS', context: EventContext): Promise<'FAILED'> {
    const { orderId, userId, price } = event;
    await payments.recordRefusal(tx, { orderId, userId, amount: BigInt(price), reason }, outboxRow('PaymentFailed', { orderId, userId, amount: price, reason }, context));
    return 'FAILED';
  }
}
