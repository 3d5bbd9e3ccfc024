import { randomUUID } from 'node:crypto';
import { toMinorUnits } from '@eventflow/platform';
import type { OrderStatus } from '../domain/order.js';
import type { Tx } from './prisma.js';

/**
 * The order aggregate's storage: queries, the row lock that serialises settling one order, the
 * row-to-view mapping, the unique Idempotency-Key index (Prisma's P2002) and the NOTIFY that
 * wakes waiting readers.
 */

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

export type OrderRow = Awaited<ReturnType<Tx['order']['create']>>;

export const orderView = (row: OrderRow): OrderView => ({
  id: row.id,
  userId: row.userId,
  price: toMinorUnits(row.price),
  status: row.status,
  failureReason: row.failureReason,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
  completedAt: row.completedAt?.toISOString() ?? null,
});

/** Another request with the same user and Idempotency-Key inserted its order first. */
export class IdempotencyKeyTakenError extends Error {
  constructor(readonly userId: string, readonly idempotencyKey: string) {
    super(`an order with this Idempotency-Key exists for user ${userId}`);
    this.name = 'IdempotencyKeyTakenError';
  }
}

export async function findByIdempotencyKey(db: Tx, userId: string, idempotencyKey: string): Promise<OrderRow | null> {
  return db.order.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey } } });
}

/** Inserts a new PENDING order; a key another request used first fails with IdempotencyKeyTakenError. */
export async function insertOrder(tx: Tx, order: { userId: string; price: bigint; idempotencyKey?: string }): Promise<OrderRow> {
  try {
    return await tx.order.create({ data: { id: randomUUID(), userId: order.userId, price: order.price, idempotencyKey: order.idempotencyKey ?? null } });
  } catch (error) {
    if (order.idempotencyKey && (error as { code?: string }).code === 'P2002') throw new IdempotencyKeyTakenError(order.userId, order.idempotencyKey);
    throw error;
  }
}

/** The user's order, or null when there is none or it is someone else's. */
export async function findOrder(db: Tx, userId: string, orderId: string): Promise<OrderView | null> {
  const order = await db.order.findUnique({ where: { id: orderId } });
  return order && order.userId === userId ? orderView(order) : null;
}

/** The user's orders, newest first, and how many there are. */
export async function listOrders(db: Tx, userId: string, limit: number, offset: number): Promise<{ items: OrderView[]; total: number }> {
  const [rows, total] = await Promise.all([
    db.order.findMany({ where: { userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit, skip: offset }),
    db.order.count({ where: { userId } }),
  ]);
  return { items: rows.map(orderView), total };
}

/** Reads the order's status under a row lock (FOR UPDATE); null: no such order. */
export async function lockStatus(tx: Tx, orderId: string): Promise<OrderStatus | null> {
  const [row] = await tx.$queryRaw<Array<{ status: OrderStatus }>>`SELECT status FROM orders WHERE id = ${orderId}::uuid FOR UPDATE`;
  return row?.status ?? null;
}

/** Writes the final state and, at commit, tells every replica's listener (GET /orders/{id} with Prefer: wait answers then). */
export async function recordSettlement(
  tx: Tx,
  orderId: string,
  settlement: { status: OrderStatus; failureReason: string | null; completedAt: Date },
): Promise<OrderRow> {
  const order = await tx.order.update({ where: { id: orderId }, data: settlement });
  await tx.$executeRaw`SELECT pg_notify(${orderSettledChannel}, ${order.id})`;
  return order;
}
