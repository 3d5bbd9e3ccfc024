/**
 * `npx tsx scripts/bench/placement.ts [--orders 3000]`: what one POST /orders costs order-service
 * in CPU, measured in this process on a scratch database of the stack's PostgreSQL (migrated like
 * order-service's, dropped at the end; no Kafka, no other service touched). The same request is run
 * several ways, interleaved in rounds so that the machine's other load hits each alike:
 *
 * - `post-before`: POST /orders through the whole route (app.inject: routing, hooks, TypeBox/ajv
 *   validation, token verification, serialisation, access log to /dev/null) as it was: the order,
 *   its outbox row and (with a key) the Idempotency-Key claim in a Prisma interactive transaction
 *   through the model API, and jose verifying the token on every request;
 * - `post-sql`: the same with the placement as it is (one raw statement on a pg pool) but every
 *   token still verified;
 * - `post-now`: the route as it is (one statement, verified tokens remembered until their exp);
 * - `post-*+key`: the same three with a fresh Idempotency-Key per request;
 * - `post-now-log`: `post-now` without the access-log line; `post-now+limit`: with the per-user
 *   rate limit counting every request (production; npm start exempts 127.0.0.1);
 * - `health`: GET /health/live on the same server, the floor of any request;
 * - `place-prisma`, `place-sql`: Orders.place alone, before and now;
 * - `verify-jose`, `verify-cached`: the token verification alone.
 *
 * `--ways post-now,place-sql` runs only those (e.g. under `node --cpu-prof --import tsx`).
 *
 * Prints CPU milliseconds of this process per operation (one request at a time, so nothing else is
 * in it; the median of the rounds) and the wall time per operation. app.inject leaves out the
 * socket and the HTTP parser, and the load generator's share is not in these figures (it is not
 * in this process). The figures are ratios within one run; see docs/performance.md.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { claimIdempotencyKey, createTokenVerifier, recordIdempotentResult, type IdempotencyKey, type TokenVerifier } from '@eventflow/http';
import { appendToOutbox, outboxRow, type EventContext } from '@eventflow/messaging';
import { createLogger } from '@eventflow/platform';
import { createSqlDb } from '@eventflow/platform/db';
import { createTestTokens, scratchDatabase } from '@eventflow/testing';
// A measurement of order-service's own route and stores, as they are: the script reaches into the service on purpose.
/* eslint-disable @nx/enforce-module-boundaries */
import { buildApp } from '../../apps/order-service/src/app.js';
import { Orders } from '../../apps/order-service/src/application/orders.js';
import * as orders from '../../apps/order-service/src/persistence/orders.js';
import { createDb, type Db } from '../../apps/order-service/src/persistence/prisma.js';
/* eslint-enable @nx/enforce-module-boundaries */

const { values: args } = parseArgs({ options: { orders: { type: 'string', default: '3000' }, ways: { type: 'string' } } });
const total = Number(args.orders);

const database = await scratchDatabase(fileURLToPath(new URL('../../apps/order-service/prisma/migrations', import.meta.url)));
const db = createDb(database.url);
const placements = createSqlDb({ connectionString: database.url, max: 5, connectionTimeoutMs: 2_000 });

/** Orders.place as it was before the single statement: a Prisma interactive transaction, model API. */
class PrismaOrders extends Orders {
  constructor(
    private readonly prisma: Db,
    producer: string,
  ) {
    super(prisma, placements, producer);
  }

  override async place(userId: string, price: number, context: Omit<EventContext, 'producer'>, idempotency?: IdempotencyKey) {
    return this.prisma.$transaction(async (tx) => {
      if (idempotency) {
        const earlier = await claimIdempotencyKey(tx, userId, idempotency);
        if (earlier) {
          const order = await orders.findOrder(tx, userId, earlier);
          if (!order) throw new Error(`missing order ${earlier}`);
          return { order, replayed: true };
        }
      }
      const order = await tx.order.create({ data: { id: randomUUID(), userId, price: BigInt(price), idempotencyKey: idempotency?.key ?? null } });
      await appendToOutbox(tx, outboxRow('OrderPlaced', { orderId: order.id, userId, price, placedAt: order.createdAt.getTime() }, { ...context, producer: 'order-service' }));
      if (idempotency) await recordIdempotentResult(tx, userId, idempotency, order.id);
      return { order: orders.orderView(order), replayed: false };
    });
  }
}

const tokens = createTestTokens();
const verifiers = {
  jose: await createTokenVerifier({ ...tokens, cacheSize: 0 }),
  cached: await createTokenVerifier(tokens),
};
// As in production: info level, written synchronously (pino's default destination), here to /dev/null.
const logger = createLogger('order-service', 'info', {}, pino.destination({ dest: '/dev/null', sync: true }));
const prismaOrders = new PrismaOrders(db, 'order-service');
const sqlOrders = new Orders(db, placements, 'order-service');
const quiet = createLogger('order-service', 'warn', {}, pino.destination({ dest: '/dev/null', sync: true }));
const appFor = (place: Orders, verifyToken: TokenVerifier, options: Partial<Parameters<typeof buildApp>[0]> = {}) =>
  buildApp({ logger, orders: place, verifyToken, readiness: [], bodyLimit: 65_536, ...options });
const apps = {
  before: await appFor(prismaOrders, verifiers.jose),
  sql: await appFor(sqlOrders, verifiers.jose),
  now: await appFor(sqlOrders, verifiers.cached),
  // The same without the access-log line (info), and with the per-user rate limit counting (as in production; npm start exempts 127.0.0.1).
  unlogged: await appFor(sqlOrders, verifiers.cached, { logger: quiet }),
  limited: await appFor(sqlOrders, verifiers.cached, { http: { edge: { trustedProxies: [], rateLimitExemptAddresses: [], userRequestsPerMinute: 1_000_000 } } }),
};

// 200 users with their own token each, as the benchmark's load (each client reuses its token).
const users = await Promise.all(
  Array.from({ length: 200 }, async () => {
    const user = { id: randomUUID(), email: 'bench@example.com' };
    return { ...user, token: await tokens.tokenFor(user, { expiresIn: '1h' }) };
  }),
);
let next = 0;
const someUser = () => users[(next += 1) % users.length]!;

const post = (app: keyof typeof apps, keyed: boolean) => async () => {
  const user = someUser();
  const headers: Record<string, string> = { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' };
  if (keyed) headers['idempotency-key'] = randomUUID();
  const response = await apps[app].inject({ method: 'POST', url: '/orders', headers, payload: '{"price":100}' });
  if (response.statusCode !== 201) throw new Error(`POST /orders answered ${response.statusCode}: ${response.body}`);
};
const context = { correlationId: randomUUID() };
const ways = {
  'post-before': post('before', false),
  'post-sql': post('sql', false),
  'post-now': post('now', false),
  'post-before+key': post('before', true),
  'post-sql+key': post('sql', true),
  'post-now+key': post('now', true),
  'post-now-log': post('unlogged', false),
  'post-now+limit': post('limited', false),
  // The floor: a route that does nothing, through the same server.
  'health': async () => void (await apps.now.inject({ method: 'GET', url: '/health/live' })),
  'place-prisma': async () => void (await prismaOrders.place(someUser().id, 100, context)),
  'place-sql': async () => void (await sqlOrders.place(someUser().id, 100, context)),
  'verify-jose': async () => void (await verifiers.jose(someUser().token)),
  'verify-cached': async () => void (await verifiers.cached(someUser().token)),
} as const;
type Way = keyof typeof ways;
// --ways post-now,verify-jose: only those (e.g. under node --cpu-prof).
const names = (args.ways ? args.ways.split(',') : Object.keys(ways)) as Way[];
const unknown = names.filter((name) => !(name in ways));
if (unknown.length > 0) throw new Error(`unknown ways: ${unknown.join(', ')} (known: ${Object.keys(ways).join(', ')})`);
const cpuMs = Object.fromEntries(names.map((w) => [w, [] as number[]])) as Record<Way, number[]>;
const wallMs = Object.fromEntries(names.map((w) => [w, [] as number[]])) as Record<Way, number[]>;

// Warm-up (JIT, connections, the token cache).
for (const way of names) for (let i = 0; i < 300; i += 1) await ways[way]();

const rounds = 5;
const perRound = Math.ceil(total / rounds);
for (let round = 0; round < rounds; round += 1) {
  for (const way of names) {
    const started = performance.now();
    const before = process.cpuUsage();
    for (let i = 0; i < perRound; i += 1) await ways[way]();
    const used = process.cpuUsage(before);
    cpuMs[way].push((used.user + used.system) / 1000 / perRound);
    wallMs[way].push((performance.now() - started) / perRound);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
console.log(`POST /orders in order-service's process, ${perRound} × ${rounds} rounds per way (median of the rounds):`);
for (const way of names) {
  console.log(`  ${way.padEnd(16)} ${median(cpuMs[way]).toFixed(3)} ms CPU per operation, ${median(wallMs[way]).toFixed(3)} ms wall`);
}
for (const app of Object.values(apps)) await app.close();
await db.$disconnect();
await placements.$disconnect();
await database.drop();
