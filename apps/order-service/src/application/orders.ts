import type { PaymentFailed, PaymentSucceeded } from '@eventflow/events';
import { claimIdempotencyKey, pruneIdempotencyKeys, recordIdempotentResult, type IdempotencyKey } from '@eventflow/http';
import type { EventContext } from '@eventflow/messaging';
import { appendToOutbox, outboxRow } from '@eventflow/messaging';
import { PoisonMessageError, toMinorUnits } from '@eventflow/platform';
import { settle, type OrderStatus, type PaymentOutcome } from '../domain/order.js';
import * as orders from '../persistence/orders.js';
import { orderView, type OrderView } from '../persistence/orders.js';
import type { Db, EventTx } from '../persistence/prisma.js';
import { ordersSettled } from './metrics.js';

export { orderSettledChannel, type OrderView } from '../persistence/orders.js';

/** Order-service's use cases: placing orders and settling them from billing's outcome. */
export class Orders {
  constructor(
    private readonly db: Db,
    private readonly producer: string,
  ) {}

  /**
   * Creates the order and its OrderPlaced in one transaction. The same Idempotency-Key with the
   * same request returns the same order (concurrent ones wait for the first); with a different
   * request it is refused (IdempotencyKeyReusedError, 422).
   */
  async place(userId: string, price: number, context: Omit<EventContext, 'producer'>, idempotency?: IdempotencyKey): Promise<{ order: OrderView; replayed: boolean }> {
    return this.db.$transaction(async (tx) => {
      if (idempotency) {
        const earlier = await claimIdempotencyKey(tx, userId, idempotency);
        if (earlier) {
          const order = await orders.findOrder(tx, userId, earlier);
          if (!order) throw new Error(`Idempotency-Key record of user ${userId} names a missing order ${earlier}`);
          return { order, replayed: true };
        }
      }
      const order = await orders.insertOrder(tx, { userId, price: BigInt(price), ...(idempotency ? { idempotencyKey: idempotency.key } : {}) });
      await appendToOutbox(
        tx,
        outboxRow('OrderPlaced', { orderId: order.id, userId, price, placedAt: order.createdAt.getTime() }, { ...context, producer: this.producer }),
      );
      if (idempotency) await recordIdempotentResult(tx, userId, idempotency, order.id);
      return { order: orderView(order), replayed: false };
    });
  }

  /** Forgets the Idempotency-Keys older than their retention; returns how many. */
  pruneIdempotencyKeys(): Promise<number> {
    return pruneIdempotencyKeys(this.db);
  }

  get(userId: string, orderId: string): Promise<OrderView | null> {
    return orders.findOrder(this.db, userId, orderId);
  }

  list(userId: string, limit: number, offset: number): Promise<{ items: OrderView[]; total: number }> {
    return orders.listOrders(this.db, userId, limit, offset);
  }

  /** PaymentSucceeded / PaymentFailed: the order's final state and its event, exactly once. */
  async settle(tx: EventTx, event: PaymentSucceeded | PaymentFailed, outcome: PaymentOutcome, context: EventContext): Promise<OrderStatus | 'unchanged'> {
    const status = await orders.lockStatus(tx, event.orderId);
    if (status === null) throw new PoisonMessageError(`payment outcome for unknown order ${event.orderId}`);
    const result = settle(status, outcome);
    if (!result.changed) return 'unchanged';
    const failureReason = outcome.kind === 'failed' ? outcome.reason : null;
    const now = new Date();
    const order = await orders.recordSettlement(tx, event.orderId, { status: result.status, failureReason, completedAt: now });
    const base = { orderId: order.id, userId: order.userId, price: toMinorUnits(order.price) };
    const final =
      outcome.kind === 'succeeded'
        ? outboxRow('OrderPaid', { ...base, paidAt: now.getTime(), balanceAfter: 'balanceAfter' in event ? event.balanceAfter : null }, context)
        : outboxRow('OrderPaymentFailed', { ...base, reason: outcome.reason, failedAt: now.getTime() }, context);
    await appendToOutbox(tx, final);
    ordersSettled.inc({ status: result.status });
    return result.status;
  }
}
