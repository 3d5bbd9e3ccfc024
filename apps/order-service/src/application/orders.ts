import type { PaymentFailed, PaymentSucceeded } from '@eventflow/events';
import type { EventContext } from '@eventflow/messaging';
import { appendToOutbox, outboxRow } from '@eventflow/messaging';
import { PoisonMessageError, toMinorUnits } from '@eventflow/platform';
import { settle, type OrderStatus, type PaymentOutcome } from '../domain/order.js';
import * as orders from '../persistence/orders.js';
import { IdempotencyKeyTakenError, orderView, type OrderView } from '../persistence/orders.js';
import type { Db, EventTx } from '../persistence/prisma.js';
import { ordersSettled } from './metrics.js';

export { orderSettledChannel, type OrderView } from '../persistence/orders.js';

/** Order-service's use cases: placing orders and settling them from billing's outcome. */
export class Orders {
  constructor(
    private readonly db: Db,
    private readonly producer: string,
  ) {}

  /** Creates the order and its OrderPlaced in one transaction; the same Idempotency-Key returns the same order. */
  async place(userId: string, price: number, context: Omit<EventContext, 'producer'>, idempotencyKey?: string): Promise<{ order: OrderView; replayed: boolean }> {
    if (idempotencyKey) {
      const earlier = await orders.findByIdempotencyKey(this.db, userId, idempotencyKey);
      if (earlier) return { order: orderView(earlier), replayed: true };
    }
    try {
      return await this.db.$transaction(async (tx) => {
        const order = await orders.insertOrder(tx, { userId, price: BigInt(price), ...(idempotencyKey ? { idempotencyKey } : {}) });
        await appendToOutbox(
          tx,
          outboxRow('OrderPlaced', { orderId: order.id, userId, price, placedAt: order.createdAt.getTime() }, { ...context, producer: this.producer }),
        );
        return { order: orderView(order), replayed: false };
      });
    } catch (error) {
      // Two requests with one key raced; the loser answers with the winner's order.
      if (error instanceof IdempotencyKeyTakenError) {
        const winner = await orders.findByIdempotencyKey(this.db, userId, error.idempotencyKey);
        if (winner) return { order: orderView(winner), replayed: true };
      }
      throw error;
    }
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
