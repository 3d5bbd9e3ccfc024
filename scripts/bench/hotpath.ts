/**
 * `npx tsx scripts/bench/hotpath.ts [--orders 2000] [--workers 8]`: the per-event transaction of
 * billing (charge an order: inbox row, payment check, balance lock, balance + ledger, payment,
 * outbox row) on the stack's billing database, in four ways, interleaved so that the machine's
 * other load hits each alike:
 *
 * - `orm`: the statements as they were before (Prisma model queries, pg_notify in every transaction);
 * - `raw`: the stores as they are (raw SQL, NOTIFY only while someone waits) in a Prisma
 *   interactive transaction;
 * - `sql5`: on a plain pg pool (createSqlDb), the five statements the stores had until da2804d;
 * - `sql`: the stores as they are (two statements: read under the lock, then record the charge
 *   with its event) in a transaction of createSqlDb, as the consumer runs them.
 *
 * Prints, per way, CPU milliseconds of this process per transaction (one worker, so nothing
 * else is in it) and transactions per second with `--workers` concurrent workers. The figures are
 * ratios within one run; see docs/performance.md.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { stackEnv } from '@eventflow/system-harness';
import { appendToOutbox, outboxRow } from '@eventflow/messaging';
import { uuidv7 } from '@eventflow/platform';
import { createSqlDb, waitersPresentSql, type SqlDb } from '@eventflow/platform/db';
// A measurement of billing's own stores, as they are: the script reaches into the service on purpose.
/* eslint-disable @nx/enforce-module-boundaries */
import * as accounts from '../../apps/billing-service/src/persistence/accounts.js';
import * as payments from '../../apps/billing-service/src/persistence/payments.js';
import { createDb, type EventTx } from '../../apps/billing-service/src/persistence/prisma.js';
/* eslint-enable @nx/enforce-module-boundaries */

const { values: args } = parseArgs({ options: { orders: { type: 'string', default: '2000' }, workers: { type: 'string', default: '8' } } });
const orders = Number(args.orders);
const workers = Number(args.workers);

const databaseUrl = stackEnv()['BILLING_DATABASE_URL'];
if (!databaseUrl) throw new Error('the stack did not provide BILLING_DATABASE_URL (npm run stack -- up)');
const db = createDb(databaseUrl);
const sql = createSqlDb({ connectionString: databaseUrl, max: workers });

const userId = randomUUID();
await db.account.create({ data: { userId, balance: 1_000_000_000_000n } });
const context = { producer: 'hotpath-bench', correlationId: randomUUID() };
const inbox = 'INSERT INTO processed_events (consumer, event_id, event_type) VALUES ($1, $2::uuid, $3) ON CONFLICT DO NOTHING';

/** Before: Prisma model queries and a NOTIFY in every transaction. */
async function chargeOrm(orderId: string): Promise<void> {
  await db.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(inbox, 'hotpath-bench', uuidv7(), 'OrderPlaced');
    if (await tx.payment.findUnique({ where: { orderId } })) return;
    const [row] = await tx.$queryRaw<Array<{ balance: bigint }>>`SELECT balance FROM accounts WHERE user_id = ${userId}::uuid FOR UPDATE`;
    const balanceAfter = (row?.balance ?? 0n) - 100n;
    await tx.account.update({ where: { userId }, data: { balance: balanceAfter } });
    await tx.transaction.create({ data: { id: randomUUID(), userId, kind: 'ORDER_CHARGE', amount: 100n, balanceAfter, orderId, idempotencyKey: null } });
    await tx.payment.create({ data: { orderId, userId, amount: 100n, status: 'SUCCEEDED' } });
    await tx.$executeRaw`SELECT pg_notify(${payments.paymentDecidedChannel}, ${orderId})`;
    await appendToOutbox(tx, outboxRow('PaymentSucceeded', { orderId, userId, amount: 100, balanceAfter: Number(balanceAfter) }, context));
  });
}

/** Five statements, as the stores were until da2804d: payment check, balance lock, balance + ledger, payment + NOTIFY, outbox row. */
async function chargeFiveStatements(through: Pick<SqlDb, '$transaction'>, orderId: string): Promise<void> {
  await through.$transaction(async (tx: EventTx) => {
    await tx.$executeRawUnsafe(inbox, 'hotpath-bench', uuidv7(), 'OrderPlaced');
    if ((await tx.$queryRawUnsafe<unknown[]>('SELECT 1 FROM payments WHERE order_id = $1::uuid', orderId)).length > 0) return;
    const [row] = await tx.$queryRawUnsafe<Array<{ balance: bigint }>>('SELECT balance FROM accounts WHERE user_id = $1::uuid FOR UPDATE', userId);
    const balanceAfter = (row?.balance ?? 0n) - 100n;
    await accounts.recordBalanceChange(tx, { userId, kind: 'ORDER_CHARGE', amount: 100n, balanceAfter, orderId });
    await tx.$executeRawUnsafe(
      `WITH payment AS (INSERT INTO payments (order_id, user_id, amount, status) VALUES ($2::uuid, $3::uuid, $4, 'SUCCEEDED'))
       SELECT pg_notify($1, $2::uuid::text) WHERE ${waitersPresentSql('$1')}`,
      payments.paymentDecidedChannel,
      orderId,
      userId,
      100n,
    );
    await appendToOutbox(tx, outboxRow('PaymentSucceeded', { orderId, userId, amount: 100, balanceAfter: Number(balanceAfter) }, context));
  });
}

/** The stores as they are (as the consumer runs them: read under the lock, then record), in a transaction of `through`. */
async function chargeRaw(through: Pick<SqlDb, '$transaction'>, orderId: string): Promise<void> {
  await through.$transaction(async (tx: EventTx) => {
    await tx.$executeRawUnsafe(inbox, 'hotpath-bench', uuidv7(), 'OrderPlaced');
    const { charged, balance } = await payments.lockForCharge(tx, userId, orderId);
    if (charged) return;
    const balanceAfter = (balance ?? 0n) - 100n;
    await payments.recordCharge(
      tx,
      { orderId, userId, amount: 100n, balanceAfter },
      outboxRow('PaymentSucceeded', { orderId, userId, amount: 100, balanceAfter: Number(balanceAfter) }, context),
    );
  });
}

const ways = {
  orm: chargeOrm,
  raw: (orderId: string) => chargeRaw(db, orderId),
  sql5: (orderId: string) => chargeFiveStatements(sql, orderId),
  sql: (orderId: string) => chargeRaw(sql, orderId),
} as const;
type Way = keyof typeof ways;
const cpuMs = Object.fromEntries(Object.keys(ways).map((w) => [w, [] as number[]])) as Record<Way, number[]>;
const tps = Object.fromEntries(Object.keys(ways).map((w) => [w, [] as number[]])) as Record<Way, number[]>;

// Warm-up (JIT, connections).
for (const way of Object.keys(ways) as Way[]) for (let i = 0; i < 50; i += 1) await ways[way](randomUUID());

const rounds = 3;
const perRound = Math.ceil(orders / rounds);
for (let round = 0; round < rounds; round += 1) {
  for (const way of Object.keys(ways) as Way[]) {
    const before = process.cpuUsage();
    for (let i = 0; i < perRound; i += 1) await ways[way](randomUUID());
    const used = process.cpuUsage(before);
    cpuMs[way].push((used.user + used.system) / 1000 / perRound);

    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (next < perRound) {
          next += 1;
          await ways[way](randomUUID());
        }
      }),
    );
    tps[way].push(perRound / ((performance.now() - started) / 1000));
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
console.log(`billing charge transaction, ${perRound} × ${rounds} rounds per way, ${workers} workers for throughput:`);
for (const way of Object.keys(ways) as Way[]) {
  console.log(`  ${way.padEnd(9)} ${median(cpuMs[way]).toFixed(2)} ms CPU (client process) per transaction, ${median(tps[way]).toFixed(0)} transactions/s with ${workers} workers`);
}
await db.$disconnect();
await sql.$disconnect();
