import { randomUUID } from 'node:crypto';
import type { PaymentFailed, PaymentSucceeded } from '@eventflow/events';
import type { EventContext } from '@eventflow/messaging';
import { appendToOutbox, outboxRow } from '@eventflow/messaging';
import { PoisonMessageError, toMinorUnits } from '@eventflow/platform';
import { settle, type OrderStatus, type PaymentOutcome } from '../domain/order.js';
import type { Db, Tx } from '../persistence/prisma.js';
import { ordersSettled } from './metrics.js';

/** NOTIFY channel of order-service's database: the id of an order that reached its final state, at commit. */
export const orderSettledChannel = 'order_settled';

export interface OrderView {
  id: string;
  userId: string;
  price: number;
  status: OrderStatus;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
}

type OrderRow = Awaited<ReturnType<Tx['order']['create']>>;

const orderView = (row: OrderRow): OrderView => ({
  id: row.id,
  userId: row.userId,
  price: toMinorUnits(row.price),
  status: row.status,
  failureReason: row.failureReason,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
  completedAt: row.completedAt?.toISOString() ?? null,
});

/** Order-service's use cases: placing orders and settling them from billing's outcome. */
export class Orders {
  constructor(
    private readonly db: Db,
    private readonly producer: string,
  ) {}

  /** Creates the order and its OrderPlaced in one transaction; the same Idempotency-Key returns the same order. */
  async place(userId: string, price: number, context: Omit<EventContext, 'producer'>, idempotencyKey?: string): Promise<{ order: OrderView; replayed: boolean }> {
    if (idempotencyKey) {
      const earlier = await this.db.order.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey } } });
      if (earlier) return { order: orderView(earlier), replayed: true };
    }
    try {
      return await this.db.$transaction(async (tx) => {
        const order = await tx.order.create({ data: { id: randomUUID(), userId, price: BigInt(price), idempotencyKey: idempotencyKey ?? null } });
        await appendToOutbox(
          tx,
          outboxRow('OrderPlaced', { orderId: order.id, userId, price, placedAt: order.createdAt.getTime() }, { ...context, producer: this.producer }),
        );
        return { order: orderView(order), replayed: false };
      });
    } catch (error) {
      // Two requests with one key raced; the loser answers with the winner's order.
      if (idempotencyKey && (error as { code?: string }).code === 'P2002') {
        const winner = await this.db.order.findUniqueOrThrow({ where: { userId_idempotencyKey: { userId, idempotencyKey } } });
        return { order: orderView(winner), replayed: true };
      }
      throw error;
    }
  }

  async get(userId: string, orderId: string): Promise<OrderView | null> {
    const order = await this.db.order.findUnique({ where: { id: orderId } });
    return order && order.userId === userId ? orderView(order) : null;
  }

  async list(userId: string, limit: number, offset: number): Promise<{ items: OrderView[]; total: number }> {
    const [rows, total] = await Promise.all([
      this.db.order.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit, skip: offset }),
      this.db.order.count({ where: { userId } }),
    ]);
    return { items: rows.map(orderView), total };
  }

  /** PaymentSucceeded / PaymentFailed: the order's final state and its event, exactly once. */
  async settle(tx: Tx, event: PaymentSucceeded | PaymentFailed, outcome: PaymentOutcome, context: EventContext): Promise<OrderStatus | 'unchanged'> {
    const [row] = await tx.$queryRaw<Array<{ status: OrderStatus }>>`SELECT status FROM orders WHERE id = ${event.orderId}::uuid FOR UPDATE`;
    if (!row) throw new PoisonMessageError(`payment outcome for unknown order ${event.orderId}`);
    const result = settle(row.status, outcome);
    if (!result.changed) return 'unchanged';
    const failureReason = outcome.kind === 'failed' ? outcome.reason : null;
    const now = new Date();
    const order = await tx.order.update({ where: { id: event.orderId }, data: { status: result.status, failureReason, completedAt: now } });
    const base = { orderId: order.id, userId: order.userId, price: toMinorUnits(order.price) };
    const final =
      outcome.kind === 'succeeded'
        ? outboxRow('OrderPaid', { ...base, paidAt: now.getTime(), balanceAfter: 'balanceAfter' in event ? event.balanceAfter : null }, context)
        : outboxRow('OrderPaymentFailed', { ...base, reason: outcome.reason, failedAt: now.getTime() }, context);
    await appendToOutbox(tx, final);
    // Delivered at commit to every replica's listener: GET /orders/{id} with Prefer: wait answers then.
    await tx.$executeRaw`SELECT pg_notify(${orderSettledChannel}, ${order.id})`;
    ordersSettled.inc({ status: result.status });
    return result.status;
  }
}
