import { claimIdempotencyKeySql, type IdempotencyKey } from '@eventflow/http';
import { outboxInsert, type OutboxRow } from '@eventflow/messaging';
import { toMinorUnits } from '@eventflow/platform';
import { waitersPresentSql, type SqlTx } from '@eventflow/platform/db';
import type { OrderStatus } from '../domain/order.js';
import type { EventTx, Tx } from './prisma.js';

/**
 * The order aggregate's storage: queries, the row lock that serialises settling one order, the
 * row-to-view mapping and the NOTIFY that wakes waiting readers. (Idempotency-Keys are
 * @eventflow/http's idempotency_keys table; an order only records the key it was placed with.)
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

/** A new order, every value chosen before it is written (time-ordered id, the placing process's clock). */
export interface NewOrder {
  id: string;
  userId: string;
  price: bigint;
  createdAt: Date;
  /** The request's Idempotency-Key, claimed in the same statement. */
  idempotency?: IdempotencyKey | undefined;
}

/** A new order as its row reads back: PENDING_PAYMENT, nothing settled yet. */
export const pendingOrderView = (order: NewOrder): OrderView => ({
  id: order.id,
  userId: order.userId,
  price: toMinorUnits(order.price),
  status: 'PENDING_PAYMENT',
  failureReason: null,
  createdAt: order.createdAt.toISOString(),
  updatedAt: order.createdAt.toISOString(),
  completedAt: null,
});

/**
 * Writes a new PENDING order and its event (the outbox row) and, with an Idempotency-Key, the
 * key's claim, all in ONE statement: a single statement is its own transaction, so all of it
 * commits or none, without BEGIN/COMMIT round trips, and this is the only statement of POST
 * /orders (through Prisma's model API and an interactive transaction the same work cost about
 * twice the CPU of the whole rest of the request; scripts/bench/placement.ts). Returns false
 * when the key was already claimed by an earlier request: nothing was written.
 *
 * The outbox insert is @eventflow/messaging's (outboxInsert), written only if the order was.
 */
export async function placeOrder(sql: SqlTx, order: NewOrder, event: OutboxRow): Promise<boolean> {
  const values: unknown[] = [
    order.id,
    order.userId,
    order.price,
    order.idempotency?.key ?? null,
    order.createdAt,
  ];
  const published = outboxInsert(event, values.length + 1, { onlyIfRowsIn: 'placed' });
  values.push(...published.values);
  let claim = '';
  if (order.idempotency) {
    values.push(order.idempotency.fingerprint);
    claim = `claimed AS (${claimIdempotencyKeySql({ userId: '$2', key: '$4', fingerprint: `$${values.length}`, resourceId: '$1' })}),`;
  }
  const [row] = await sql.$queryRawUnsafe<Array<{ placed: number }>>(
    `WITH ${claim}
     placed AS (
       INSERT INTO orders (id, user_id, price, idempotency_key, created_at, updated_at)
       SELECT $1::uuid, $2::uuid, $3::bigint, $4, $5::timestamptz, $5::timestamptz${claim ? ' WHERE EXISTS (SELECT 1 FROM claimed)' : ''}
       RETURNING id
     ), published AS (${published.sql})
     SELECT count(*)::int AS placed FROM placed`,
    ...values,
  );
  return (row?.placed ?? 0) > 0;
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

/** What settling needs, read under the order's row lock (FOR UPDATE); null: no such order. */
export async function lockForSettlement(tx: EventTx, orderId: string): Promise<{ id: string; status: OrderStatus; userId: string; price: bigint } | null> {
  const [row] = await tx.$queryRawUnsafe<Array<{ id: string; status: OrderStatus; user_id: string; price: bigint }>>(
    'SELECT id, status, user_id, price FROM orders WHERE id = $1::uuid FOR UPDATE',
    orderId,
  );
  return row ? { id: row.id, status: row.status, userId: row.user_id, price: row.price } : null;
}

/**
 * Writes the final state, its event (the outbox row) and, at commit, tells every replica's
 * listener that has waiters (GET /orders/{id} with Prefer: wait answers then). ONE statement: it
 * runs for every order, and each round trip of a consumer's transaction waits its turn on a busy
 * machine (through the ORM it also cost several times the statement itself).
 */
export async function recordSettlement(
  tx: EventTx,
  orderId: string,
  settlement: { status: OrderStatus; failureReason: string | null; completedAt: Date },
  event: OutboxRow,
): Promise<void> {
  const published = outboxInsert(event, 6);
  const [row] = await tx.$queryRawUnsafe<Array<{ settled: number }>>(
    `WITH settled AS (
       UPDATE orders SET status = $3::"OrderStatus", failure_reason = $4, completed_at = $5, updated_at = now()
       WHERE id = $2::uuid RETURNING id
     ), published AS (${published.sql}),
     notified AS (SELECT pg_notify($1, $2::uuid::text) WHERE EXISTS (SELECT 1 FROM settled) AND ${waitersPresentSql('$1')})
     SELECT (SELECT count(*) FROM settled)::int AS settled, (SELECT count(*) FROM notified) AS n`,
    orderSettledChannel,
    orderId,
    settlement.status,
    settlement.failureReason,
    settlement.completedAt,
    ...published.values,
  );
  // Read under the row lock a moment ago: an order cannot vanish, but if it did, roll back the event too.
  if (row?.settled !== 1) throw new Error(`order ${orderId} vanished while settling`);
}
