/**
 * The invariants of a chaos run, checked on the durable state (the four PostgreSQL databases and
 * Kafka) against what the clients were told.
 */
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { consumerGroups, dlqTopicOf, kafkaConnection, namespaced, topics } from '@eventflow/events';
import { toolKafkaSettings } from '@eventflow/system-harness';
import type { Operation } from './load.js';

export interface CheckResult {
  name: string;
  checked: number;
  violations: string[];
}

export interface Databases {
  users: string;
  orders: string;
  billing: string;
  notifications: string;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

interface OrderRow {
  id: string;
  user_id: string;
  price: string;
  status: 'PENDING_PAYMENT' | 'PAID' | 'PAYMENT_FAILED';
  idempotency_key: string | null;
  created_at: Date;
  completed_at: Date | null;
}
interface TransactionRow {
  id: string;
  user_id: string;
  kind: 'DEPOSIT' | 'WITHDRAWAL' | 'ORDER_CHARGE';
  amount: string;
  balance_after: string;
  order_id: string | null;
  idempotency_key: string | null;
}

export interface State {
  orders: OrderRow[];
  transactions: TransactionRow[];
  payments: Array<{ order_id: string; user_id: string; amount: string; status: 'SUCCEEDED' | 'FAILED' }>;
  accounts: Array<{ user_id: string; balance: string }>;
  messages: Array<{ order_id: string; kind: string; user_id: string }>;
  unpublished: Record<string, number>;
}

/** What the databases hold about the run's users. */
export async function readState(db: Databases, userIds: string[]): Promise<State> {
  const [orders, transactions, payments, accounts, messages] = await Promise.all([
    query<OrderRow>(db.orders, 'SELECT id, user_id, price, status, idempotency_key, created_at, completed_at FROM orders WHERE user_id = ANY($1::uuid[])', [userIds]),
    query<TransactionRow>(db.billing, 'SELECT id, user_id, kind, amount, balance_after, order_id, idempotency_key FROM transactions WHERE user_id = ANY($1::uuid[])', [userIds]),
    query<State['payments'][number]>(db.billing, 'SELECT order_id, user_id, amount, status FROM payments WHERE user_id = ANY($1::uuid[])', [userIds]),
    query<State['accounts'][number]>(db.billing, 'SELECT user_id, balance FROM accounts WHERE user_id = ANY($1::uuid[])', [userIds]),
    query<State['messages'][number]>(db.notifications, "SELECT order_id, kind, user_id FROM messages WHERE user_id = ANY($1::uuid[]) AND kind <> 'DIRECT'", [userIds]),
  ]);
  const unpublished: Record<string, number> = {};
  for (const [name, url] of [
    ['users', db.users],
    ['orders', db.orders],
    ['billing', db.billing],
  ] as const) {
    const [row] = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM outbox_events WHERE published_at IS NULL');
    unpublished[name] = row?.n ?? 0;
  }
  return { orders, transactions, payments, accounts, messages, unpublished };
}

/** Messages waiting for a consumer group, per group (committed offset to the end of each partition). */
export async function consumerLag(brokers: string): Promise<Record<string, number>> {
  const kafka = new Kafka({ clientId: 'chaos-check', ...kafkaConnection(toolKafkaSettings({ ...process.env, KAFKA_BROKERS: brokers })), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const subscriptions: Record<string, string[]> = {
      [consumerGroups.billing]: [topics.userEvents, topics.orderEvents],
      [consumerGroups.order]: [topics.paymentEvents],
      [consumerGroups.notification]: [topics.userEvents, topics.orderEvents],
    };
    const lag: Record<string, number> = {};
    for (const [groupId, groupTopics] of Object.entries(subscriptions)) {
      lag[groupId] = 0;
      // The system runs in this process's Kafka namespace (`test.` under npm test).
      const names = { groupId: namespaced(groupId), topics: groupTopics.map((topic) => namespaced(topic)) };
      for (const { topic, partitions } of await admin.fetchOffsets(names)) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const { partition, offset } of partitions) {
          const end = Number(ends.find((e) => e.partition === partition)?.high ?? 0);
          lag[groupId] += Math.max(0, end - Math.max(0, Number(offset)));
        }
      }
    }
    return lag;
  } finally {
    await admin.disconnect();
  }
}

export interface DeadLetter {
  topic: string;
  offset: string;
  eventType: string;
  eventId: string;
  kind: string;
  error: string;
}

/** The end offset of each dead-letter topic (partition 0; they have one), to read only a run's own. */
export async function deadLetterEnds(brokers: string): Promise<Record<string, number>> {
  const kafka = new Kafka({ clientId: 'chaos-check', ...kafkaConnection(toolKafkaSettings({ ...process.env, KAFKA_BROKERS: brokers })), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends: Record<string, number> = {};
    for (const group of Object.values(consumerGroups)) {
      const topic = dlqTopicOf(namespaced(group));
      ends[topic] = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
    }
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/** Dead letters written after `since` (end offsets taken at the start of the run). */
export async function deadLettersSince(brokers: string, since: Record<string, number>): Promise<DeadLetter[]> {
  const now = await deadLetterEnds(brokers);
  const wanted = Object.keys(now).filter((t) => (now[t] ?? 0) > (since[t] ?? 0));
  if (wanted.length === 0) return [];
  const kafka = new Kafka({ clientId: 'chaos-check', ...kafkaConnection(toolKafkaSettings({ ...process.env, KAFKA_BROKERS: brokers })), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: namespaced(`eventflow-chaos-dlq-${Date.now()}-${Math.random().toString(16).slice(2)}`) });
  const letters: DeadLetter[] = [];
  const remaining = new Map(wanted.map((t) => [t, (now[t] ?? 0) - (since[t] ?? 0)]));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: wanted, fromBeginning: true });
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => (finish = resolve));
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        if (Number(message.offset) < (since[topic] ?? 0)) return;
        const h = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        letters.push({ topic, offset: message.offset, eventType: h['event-type'] ?? '?', eventId: h['event-id'] ?? '?', kind: h['dlq-error-kind'] ?? '?', error: h['dlq-error'] ?? '?' });
        remaining.set(topic, (remaining.get(topic) ?? 1) - 1);
        if ([...remaining.values()].every((n) => n <= 0)) finish();
      },
    });
    const timer = setTimeout(finish, 60_000);
    await done;
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

const money = (value: string | number) => Number(value);

/** Every invariant, each with what it looked at and what it found wrong. */
export function checkInvariants(state: State, operations: Operation[], deadLetters: DeadLetter[], lag: Record<string, number>): CheckResult[] {
  const ordersById = new Map(state.orders.map((o) => [o.id, o]));
  const paymentsByOrder = new Map(state.payments.map((p) => [p.order_id, p]));
  const results: CheckResult[] = [];
  const result = (name: string, checked: number, violations: string[]) => results.push({ name, checked, violations });

  // 1. Every accepted order exists, and every order of the run is final.
  const accepted = operations.filter((o) => o.kind === 'order').flatMap((o) => o.attempts.filter((a) => a.id).map((a) => a.id!));
  result('every accepted order exists', new Set(accepted).size, [...new Set(accepted)].filter((id) => !ordersById.has(id)).map((id) => `order ${id} was accepted but is not stored`));
  result(
    'every order is final (PAID or PAYMENT_FAILED)',
    state.orders.length,
    state.orders.filter((o) => o.status === 'PENDING_PAYMENT').map((o) => `order ${o.id} is still PENDING_PAYMENT`),
  );

  // 2. Exactly one e-mail per final order, of the kind its outcome calls for.
  const mails = new Map<string, string[]>();
  for (const m of state.messages) mails.set(m.order_id, [...(mails.get(m.order_id) ?? []), m.kind]);
  const mailViolations: string[] = [];
  for (const o of state.orders.filter((x) => x.status !== 'PENDING_PAYMENT')) {
    const kinds = mails.get(o.id) ?? [];
    const want = o.status === 'PAID' ? 'ORDER_PAID' : 'ORDER_PAYMENT_FAILED';
    if (kinds.length !== 1 || kinds[0] !== want) mailViolations.push(`order ${o.id} (${o.status}) has e-mails [${kinds.join(', ')}], wants [${want}]`);
  }
  for (const orderId of mails.keys()) if (!ordersById.has(orderId)) mailViolations.push(`e-mail about unknown order ${orderId}`);
  result('exactly one e-mail per final order, of the right kind', state.orders.length, mailViolations);

  // 3. No order charged twice; PAID exactly when a successful charge exists, for its price.
  const charges = new Map<string, TransactionRow[]>();
  for (const t of state.transactions.filter((x) => x.kind === 'ORDER_CHARGE')) charges.set(t.order_id ?? '', [...(charges.get(t.order_id ?? '') ?? []), t]);
  result(
    'no order charged twice',
    charges.size,
    [...charges].filter(([, list]) => list.length > 1).map(([orderId, list]) => `order ${orderId} charged ${list.length} times`),
  );
  const paidViolations: string[] = [];
  for (const o of state.orders) {
    const payment = paymentsByOrder.get(o.id);
    const charged = charges.get(o.id) ?? [];
    const paid = o.status === 'PAID';
    const succeeded = payment?.status === 'SUCCEEDED' && charged.length === 1 && money(charged[0]!.amount) === money(o.price);
    if (paid !== succeeded) paidViolations.push(`order ${o.id} is ${o.status}; payment ${payment?.status ?? 'none'}, charges ${charged.length}`);
    if (o.status === 'PAYMENT_FAILED' && payment?.status !== 'FAILED') paidViolations.push(`order ${o.id} failed but its payment is ${payment?.status ?? 'missing'}`);
  }
  for (const orderId of charges.keys()) if (!ordersById.has(orderId)) paidViolations.push(`charge for unknown order ${orderId}`);
  result('PAID ⇔ one successful charge of the price', state.orders.length, paidViolations);

  // 4. Per user: balance = deposits − withdrawals − charges of paid orders, never negative.
  const balanceViolations: string[] = [];
  for (const account of state.accounts) {
    const own = state.transactions.filter((t) => t.user_id === account.user_id);
    const sum = (kind: TransactionRow['kind']) => own.filter((t) => t.kind === kind).reduce((s, t) => s + money(t.amount), 0);
    const paidOrders = state.orders.filter((o) => o.user_id === account.user_id && o.status === 'PAID').reduce((s, o) => s + money(o.price), 0);
    const expected = sum('DEPOSIT') - sum('WITHDRAWAL') - paidOrders;
    if (money(account.balance) !== expected) balanceViolations.push(`user ${account.user_id}: balance ${account.balance}, deposits − withdrawals − paid orders = ${expected}`);
    if (money(account.balance) < 0 || own.some((t) => money(t.balance_after) < 0)) balanceViolations.push(`user ${account.user_id}: a negative balance`);
  }
  result('balance = deposits − withdrawals − paid orders, never negative', state.accounts.length, balanceViolations);

  // 5. Accepted deposits and withdrawals are stored; a key retried had one effect and one answer.
  const transactionIds = new Set(state.transactions.map((t) => t.id));
  const acceptedMoves = operations.filter((o) => o.kind !== 'order').flatMap((o) => o.attempts.filter((a) => a.id).map((a) => a.id!));
  result(
    'every accepted deposit and withdrawal exists',
    new Set(acceptedMoves).size,
    [...new Set(acceptedMoves)].filter((id) => !transactionIds.has(id)).map((id) => `ledger entry ${id} was accepted but is not stored`),
  );
  const keyed = operations.filter((o) => o.key && o.attempts.length > 1);
  const idempotencyViolations: string[] = [];
  for (const op of keyed) {
    const ids = new Set(op.attempts.filter((a) => a.id).map((a) => a.id));
    const rows =
      op.kind === 'order'
        ? state.orders.filter((o) => o.user_id === op.userId && o.idempotency_key === op.key)
        : state.transactions.filter((t) => t.user_id === op.userId && t.idempotency_key === op.key);
    if (ids.size > 1) idempotencyViolations.push(`${op.kind} key ${op.key} answered with ${ids.size} different ids`);
    if (rows.length > 1) idempotencyViolations.push(`${op.kind} key ${op.key} has ${rows.length} effects`);
    if (ids.size === 1 && rows[0]?.id !== [...ids][0]) idempotencyViolations.push(`${op.kind} key ${op.key} answered ${[...ids][0]}, stored ${rows[0]?.id ?? 'nothing'}`);
  }
  result('each retried idempotent request had one effect', keyed.length, idempotencyViolations);

  // 6. The outbox is empty, the consumers are caught up, no dead letters.
  result(
    'every outbox row published',
    Object.keys(state.unpublished).length,
    Object.entries(state.unpublished).filter(([, n]) => n > 0).map(([db, n]) => `${db}: ${n} unpublished outbox rows`),
  );
  result('consumer groups caught up (lag 0)', Object.keys(lag).length, Object.entries(lag).filter(([, n]) => n > 0).map(([g, n]) => `${g}: lag ${n}`));
  result(
    'no new dead letters (each listed with its reason)',
    Object.keys(consumerGroups).length,
    deadLetters.map((d) => `${d.topic}@${d.offset} ${d.eventType} ${d.eventId} (${d.kind}): ${d.error}`),
  );
  return results;
}
