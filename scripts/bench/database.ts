/**
 * What the benchmark reads from PostgreSQL: the services' own timestamps (orders.created_at,
 * orders.completed_at, messages.sent_at), the outbox backlog, and the server's commit and WAL
 * counters. Connects as the stack's superuser so one pool per database is enough.
 */
import pg from 'pg';
import type { SettlementFacts } from './ordering.js';

export const serviceDatabases = ['users', 'billing', 'orders', 'notifications'] as const;
export type ServiceDatabase = (typeof serviceDatabases)[number];

/** The hops of an order, in order (see BenchDatabases.hops). */
export const hopNames = ['relay orders (placed)', 'to billing', 'relay billing', 'to order', 'relay orders (final)', 'to notification'] as const;
export type HopName = (typeof hopNames)[number];

export class BenchDatabases {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly adminUrl: string) {}

  pool(database: string): pg.Pool {
    let pool = this.pools.get(database);
    if (!pool) {
      const url = new URL(this.adminUrl);
      url.pathname = `/${database}`;
      pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
      this.pools.set(database, pool);
    }
    return pool;
  }

  async query<R extends pg.QueryResultRow>(database: string, sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.pool(database).query<R>(sql, params)).rows;
  }

  /** Commits in the four service databases and WAL bytes of the whole server, so far. */
  async counters(): Promise<{ commits: number; walBytes: number }> {
    const [row] = await this.query<{ commits: string; wal_bytes: string }>(
      'postgres',
      `SELECT (SELECT sum(xact_commit) FROM pg_stat_database WHERE datname = ANY($1)) AS commits,
              (SELECT wal_bytes FROM pg_stat_wal) AS wal_bytes`,
      [serviceDatabases],
    );
    return { commits: Number(row?.commits ?? 0), walBytes: Number(row?.wal_bytes ?? 0) };
  }

  /** Unpublished outbox rows and the age of the oldest, per publishing database. */
  async outboxBacklog(): Promise<Record<string, { count: number; oldestAgeMs: number }>> {
    const result: Record<string, { count: number; oldestAgeMs: number }> = {};
    for (const database of ['users', 'billing', 'orders']) {
      const [row] = await this.query<{ count: string; age_ms: number | null }>(
        database,
        `SELECT count(*) AS count, (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS age_ms
         FROM outbox_events WHERE published_at IS NULL`,
      );
      result[database] = { count: Number(row?.count ?? 0), oldestAgeMs: Math.round(row?.age_ms ?? 0) };
    }
    return result;
  }

  /** Orders of these users not yet settled (final state and e-mail stored). */
  async unsettled(userIds: string[]): Promise<number> {
    const [orders] = await this.query<{ count: string }>('orders', 'SELECT count(*) AS count FROM orders WHERE user_id = ANY($1::uuid[])', [userIds]);
    const [mails] = await this.query<{ count: string }>(
      'notifications',
      'SELECT count(*) AS count FROM messages WHERE user_id = ANY($1::uuid[]) AND order_id IS NOT NULL',
      [userIds],
    );
    return Number(orders?.count ?? 0) - Number(mails?.count ?? 0);
  }

  /** E-mails about these users' orders stored in [from, to): the settling rate's numerator. */
  async settledBetween(userIds: string[], from: Date, to: Date): Promise<number> {
    const [row] = await this.query<{ count: string }>(
      'notifications',
      'SELECT count(*) AS count FROM messages WHERE user_id = ANY($1::uuid[]) AND order_id IS NOT NULL AND sent_at >= $2 AND sent_at < $3',
      [userIds, from, to],
    );
    return Number(row?.count ?? 0);
  }

  /** For each of these users' orders created in [from, to): ms from creation to final state and to e-mail (null if not yet). */
  async latencies(userIds: string[], from: Date, to: Date): Promise<Array<{ toFinalMs: number | null; toEmailMs: number | null }>> {
    const orders = await this.query<{ id: string; created_at: Date; completed_at: Date | null }>(
      'orders',
      'SELECT id, created_at, completed_at FROM orders WHERE user_id = ANY($1::uuid[]) AND created_at >= $2 AND created_at < $3',
      [userIds, from, to],
    );
    const mails = await this.query<{ order_id: string; sent_at: Date }>(
      'notifications',
      'SELECT order_id, sent_at FROM messages WHERE order_id = ANY($1::uuid[])',
      [orders.map((o) => o.id)],
    );
    const sentAt = new Map(mails.map((m) => [m.order_id, m.sent_at.getTime()]));
    return orders.map((o) => {
      const created = o.created_at.getTime();
      const mail = sentAt.get(o.id);
      return { toFinalMs: o.completed_at ? o.completed_at.getTime() - created : null, toEmailMs: mail === undefined ? null : mail - created };
    });
  }

  /**
   * Where an order's time goes, hop by hop, from the services' own rows: an outbox row's
   * created_at (the start of the transaction that wrote it), its published_at (the start of the
   * relay's transaction that sent it) and the inbox's processed_at (the start of the consuming
   * transaction). "relay" = from the writing transaction's start to the relay's pick-up (the
   * transaction itself, its commit, the relay's wait); "to <consumer>" = from the relay's pick-up
   * to the consumer's transaction (the Kafka send, the fetch, the queue behind earlier batches).
   */
  async hops(orderIds: string[]): Promise<Record<HopName, number[]>> {
    const byOrder = (database: string, types: string[]) =>
      this.query<{ order_id: string; event_id: string; created_at: Date; published_at: Date | null }>(
        database,
        "SELECT payload->>'orderId' AS order_id, event_id, created_at, published_at FROM outbox_events WHERE event_type = ANY($1) AND payload->>'orderId' = ANY($2)",
        [types, orderIds],
      );
    const processed = async (database: string, eventIds: string[]) =>
      new Map(
        (await this.query<{ event_id: string; processed_at: Date }>(database, 'SELECT event_id, processed_at FROM processed_events WHERE event_id = ANY($1::uuid[])', [eventIds])).map(
          (r) => [r.event_id, r.processed_at.getTime()],
        ),
      );
    const [placed, payments, finals] = await Promise.all([
      byOrder('orders', ['OrderPlaced']),
      byOrder('billing', ['PaymentSucceeded', 'PaymentFailed']),
      byOrder('orders', ['OrderPaid', 'OrderPaymentFailed']),
    ]);
    const [charged, settled, mailed] = await Promise.all([
      processed('billing', placed.map((r) => r.event_id)),
      processed('orders', payments.map((r) => r.event_id)),
      processed('notifications', finals.map((r) => r.event_id)),
    ]);
    const index = (rows: typeof placed) => new Map(rows.map((r) => [r.order_id, r]));
    const [payment, final] = [index(payments), index(finals)];
    const hops = Object.fromEntries(hopNames.map((name) => [name, [] as number[]])) as Record<HopName, number[]>;
    for (const p of placed) {
      const b = payment.get(p.order_id);
      const f = final.get(p.order_id);
      const at = [
        p.created_at,
        p.published_at,
        charged.get(p.event_id),
        b?.created_at,
        b?.published_at,
        b && settled.get(b.event_id),
        f?.created_at,
        f?.published_at,
        f && mailed.get(f.event_id),
      ].map((t) => (t instanceof Date ? t.getTime() : t));
      if (at.some((t) => t === undefined || t === null)) continue;
      const t = at as number[];
      // Skips the two zero-length steps between a consumer's transaction start and its outbox row's (the same instant).
      const spans = [t[1]! - t[0]!, t[2]! - t[1]!, t[4]! - t[3]!, t[5]! - t[4]!, t[7]! - t[6]!, t[8]! - t[7]!];
      hopNames.forEach((name, i) => hops[name].push(spans[i]!));
    }
    return hops;
  }

  /** For the per-user order check: each order's charge (billing), final state (order) and e-mail (notification). */
  async settlementFacts(orderIds: string[]): Promise<Map<string, SettlementFacts>> {
    const [charges, orders, mails] = await Promise.all([
      this.query<{ order_id: string; balance_after: string }>(
        'billing',
        "SELECT order_id, balance_after FROM transactions WHERE kind = 'ORDER_CHARGE' AND order_id = ANY($1::uuid[])",
        [orderIds],
      ),
      this.query<{ id: string; completed_at: Date | null }>('orders', 'SELECT id, completed_at FROM orders WHERE id = ANY($1::uuid[])', [orderIds]),
      this.query<{ order_id: string; sent_at: Date }>('notifications', 'SELECT order_id, sent_at FROM messages WHERE order_id = ANY($1::uuid[])', [orderIds]),
    ]);
    const facts = new Map<string, SettlementFacts>(orderIds.map((id) => [id, { balanceAfter: null, completedAt: null, emailAt: null }]));
    for (const c of charges) {
      const fact = facts.get(c.order_id);
      if (fact) fact.balanceAfter = BigInt(c.balance_after);
    }
    for (const o of orders) {
      const fact = facts.get(o.id);
      if (fact) fact.completedAt = o.completed_at ? o.completed_at.getTime() : null;
    }
    for (const m of mails) {
      const fact = facts.get(m.order_id);
      if (fact) fact.emailAt = m.sent_at.getTime();
    }
    return facts;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((pool) => pool.end()));
  }
}
