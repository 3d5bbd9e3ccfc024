import type { PaymentFailed, PaymentSucceeded } from '@eventflow/events';
import { earlierIdempotentResult, pruneIdempotencyKeys, type IdempotencyKey } from '@eventflow/http';
import type { EventContext } from '@eventflow/messaging';
import { outboxRow } from '@eventflow/messaging';
import { PoisonMessageError, toMinorUnits, uuidv7 } from '@eventflow/platform';
import type { SqlTx } from '@eventflow/platform/db';
import { settle, type OrderStatus, type PaymentOutcome } from '../domain/order.js';
import * as orders from '../persistence/orders.js';
import { pendingOrderView, type OrderView } from '../persistence/orders.js';
import type { Db, EventTx } from '../persistence/prisma.js';
import { ordersSettled } from './metrics.js';

export { orderSettledChannel, type OrderView } from '../persistence/orders.js';

/** Order-service's use cases: placing orders and settling them from billing's outcome. */
export class Orders {
  /**
   * @param db the Prisma client: reads (GET) and pruning.
   * @param placements raw SQL for POST /orders' one statement: a createSqlDb pool of its own in
   *   the service (so intake cannot take the consumer's connections), or any raw executor.
   */
  constructor(
    private readonly db: Db,
    private readonly placements: SqlTx,
    private readonly producer: string,
  ) {}

  /**
   * Creates the order and its OrderPlaced atomically (one statement, placeOrder). The same
   * Idempotency-Key with the same request returns the same order (concurrent ones wait for the
   * first); with a different request it is refused (IdempotencyKeyReusedError, 422).
   */
  async place(userId: string, price: number, context: Omit<EventContext, 'producer'>, idempotency?: IdempotencyKey): Promise<{ order: OrderView; replayed: boolean }> {
    const createdAt = new Date();
    // Time-ordered, like the event ids: new rows land at the right-hand end of the primary key's index.
    const order = { id: uuidv7(createdAt.getTime()), userId, price: BigInt(price), createdAt, idempotency };
    const placed = outboxRow('OrderPlaced', { orderId: order.id, userId, price, placedAt: createdAt.getTime() }, { ...context, producer: this.producer });
    if (await orders.placeOrder(this.placements, order, placed)) return { order: pendingOrderView(order), replayed: false };
    if (!idempotency) throw new Error(`order ${order.id} was not written`);
    // An earlier request holds the key: its order, or 422 when it was a different request.
    const earlier = await earlierIdempotentResult(this.placements, userId, idempotency);
    const found = await orders.findOrder(this.db, userId, earlier);
    if (!found) throw new Error(`Idempotency-Key record of user ${userId} names a missing order ${earlier}`);
    return { order: found, replayed: true };
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
    const order = await orders.lockForSettlement(tx, event.orderId);
    if (order === null) throw new PoisonMessageError(`payment outcome for unknown order ${event.orderId}`);
    const result = settle(order.status, outcome);
    if (!result.changed) return 'unchanged';
    const failureReason = outcome.kind === 'failed' ? outcome.reason : null;
    const now = new Date();
    const base = { orderId: order.id, userId: order.userId, price: toMinorUnits(order.price) };
    const final =
      outcome.kind === 'succeeded'
        ? outboxRow('OrderPaid', { ...base, paidAt: now.getTime(), balanceAfter: 'balanceAfter' in event ? event.balanceAfter : null }, context)
        : outboxRow('OrderPaymentFailed', { ...base, reason: outcome.reason, failedAt: now.getTime() }, context);
    await orders.recordSettlement(tx, event.orderId, { status: result.status, failureReason, completedAt: now }, final);
    ordersSettled.inc({ status: result.status });
    return result.status;
  }
}
