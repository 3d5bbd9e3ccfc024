import { randomUUID } from 'node:crypto';
import type { OrderPlaced, UserCreated } from '@eventflow/events';
import type { EventContext } from '@eventflow/messaging';
import { appendToOutbox, outboxRow } from '@eventflow/messaging';
import { RetryableError, toMinorUnits } from '@eventflow/platform';
import { debit, deposit, shouldWaitForAccount, type BalanceChange } from '../domain/account.js';
import type { Db, Tx } from '../persistence/prisma.js';

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

export interface AccountView {
  userId: string;
  balance: number;
  createdAt: string;
  updatedAt: string;
}

export interface TransactionView {
  id: string;
  userId: string;
  kind: 'DEPOSIT' | 'WITHDRAWAL' | 'ORDER_CHARGE';
  amount: number;
  balanceAfter: number;
  orderId: string | null;
  createdAt: string;
}

type TransactionRow = Awaited<ReturnType<Tx['transaction']['create']>>;

const transactionView = (row: TransactionRow): TransactionView => ({
  id: row.id,
  userId: row.userId,
  kind: row.kind,
  amount: toMinorUnits(row.amount),
  balanceAfter: toMinorUnits(row.balanceAfter),
  orderId: row.orderId,
  createdAt: row.createdAt.toISOString(),
});

/** Reads the balance under a row lock, so concurrent changes to one account are serialised. */
async function lockBalance(tx: Tx, userId: string): Promise<bigint | null> {
  const rows = await tx.$queryRaw<Array<{ balance: bigint }>>`SELECT balance FROM accounts WHERE user_id = ${userId}::uuid FOR UPDATE`;
  return rows[0]?.balance ?? null;
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

  async getAccount(userId: string): Promise<AccountView | null> {
    const account = await this.db.account.findUnique({ where: { userId } });
    if (!account) return null;
    return {
      userId: account.userId,
      balance: toMinorUnits(account.balance),
      createdAt: account.createdAt.toISOString(),
      updatedAt: account.updatedAt.toISOString(),
    };
  }

  async listTransactions(userId: string, limit: number): Promise<TransactionView[]> {
    const rows = await this.db.transaction.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit });
    return rows.map(transactionView);
  }

  deposit(userId: string, amount: number, idempotencyKey?: string): Promise<{ transaction: TransactionView; replayed: boolean }> {
    return this.changeBalance(userId, 'DEPOSIT', amount, idempotencyKey, deposit);
  }

  withdraw(userId: string, amount: number, idempotencyKey?: string): Promise<{ transaction: TransactionView; replayed: boolean }> {
    return this.changeBalance(userId, 'WITHDRAWAL', amount, idempotencyKey, debit);
  }

  private async changeBalance(
    userId: string,
    kind: 'DEPOSIT' | 'WITHDRAWAL',
    amount: number,
    idempotencyKey: string | undefined,
    rule: (balance: bigint, amount: bigint) => BalanceChange,
  ): Promise<{ transaction: TransactionView; replayed: boolean }> {
    return this.db.$transaction(async (tx) => {
      const balance = await lockBalance(tx, userId);
      if (balance === null) throw new BillingError('ACCOUNT_NOT_FOUND', `No account for user ${userId}.`);
      if (idempotencyKey) {
        // Same key, same answer: a client retrying after a timeout does not pay twice.
        const earlier = await tx.transaction.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey } } });
        if (earlier) return { transaction: transactionView(earlier), replayed: true };
      }
      const change = rule(balance, BigInt(amount));
      if (!change.ok) {
        const message =
          change.reason === 'INSUFFICIENT_FUNDS'
            ? `The balance ${balance} is lower than the amount ${amount}.`
            : `The balance would exceed the limit.`;
        throw new BillingError(change.reason, message, toMinorUnits(balance));
      }
      await tx.account.update({ where: { userId }, data: { balance: change.balanceAfter } });
      const row = await tx.transaction.create({
        data: { id: randomUUID(), userId, kind, amount: BigInt(amount), balanceAfter: change.balanceAfter, idempotencyKey: idempotencyKey ?? null },
      });
      return { transaction: transactionView(row), replayed: false };
    });
  }

  /** UserCreated: every user gets exactly one account, starting at zero. */
  async openAccount(tx: Tx, event: UserCreated): Promise<void> {
    await tx.account.createMany({ data: [{ userId: event.userId, balance: 0n }], skipDuplicates: true });
  }

  /**
   * OrderPlaced: charge the price at most once per order (payments is keyed by order id) and
   * tell the outcome through the outbox, in the same transaction.
   */
  async chargeOrder(tx: Tx, event: OrderPlaced, context: EventContext): Promise<'SUCCEEDED' | 'FAILED' | 'ALREADY_CHARGED'> {
    const { orderId, userId, price } = event;
    if (await tx.payment.findUnique({ where: { orderId } })) return 'ALREADY_CHARGED';

    const balance = await lockBalance(tx, userId);
    if (balance === null) {
      if (shouldWaitForAccount(event.metadata.occurredAt, this.now(), this.options.accountWaitMs)) {
        throw new RetryableError(`no account for user ${userId} yet; its UserCreated may not have arrived`);
      }
      return this.refuse(tx, event, 'ACCOUNT_NOT_FOUND', context);
    }
    const change = debit(balance, BigInt(price));
    if (!change.ok) return this.refuse(tx, event, 'INSUFFICIENT_FUNDS', context);

    await tx.account.update({ where: { userId }, data: { balance: change.balanceAfter } });
    await tx.transaction.create({
      data: { id: randomUUID(), userId, kind: 'ORDER_CHARGE', amount: BigInt(price), balanceAfter: change.balanceAfter, orderId },
    });
    await tx.payment.create({ data: { orderId, userId, amount: BigInt(price), status: 'SUCCEEDED' } });
    await appendToOutbox(
      tx,
      outboxRow('PaymentSucceeded', { orderId, userId, amount: price, balanceAfter: toMinorUnits(change.balanceAfter) }, context),
    );
    return 'SUCCEEDED';
  }

  private async refuse(tx: Tx, event: OrderPlaced, reason: 'ACCOUNT_NOT_FOUND' | 'INSUFFICIENT_FUNDS', context: EventContext): Promise<'FAILED'> {
    const { orderId, userId, price } = event;
    await tx.payment.create({ data: { orderId, userId, amount: BigInt(price), status: 'FAILED', failureReason: reason } });
    await appendToOutbox(tx, outboxRow('PaymentFailed', { orderId, userId, amount: price, reason }, context));
    return 'FAILED';
  }
}
