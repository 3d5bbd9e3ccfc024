/**
 * `npm run chaos`: load, faults, then invariants on the durable state (Jepsen-style).
 *
 *   npm run chaos -- [--profile short|long] [--seed N] [--orders N] [--rate R] [--faults N] [--users N] [--no-generate]
 *
 * Starts the stack if it is not up and two instances of every service (ports 3001-3004 and
 * 3011-3014, same consumer groups and databases) behind an entry point that spreads requests over
 * the ready instances and fails over. Funded users place orders at a steady rate (some succeed,
 * some fail for lack of funds), deposit and withdraw, some with an Idempotency-Key sent twice or
 * re-sent after a client timeout. Meanwhile, at seeded-random moments, one fault at a time: SIGKILL
 * of a service instance, of Kafka, of the registry; a PostgreSQL fast shutdown and start; SIGSTOP
 * of a consumer instance for longer than its session timeout, then SIGCONT. Each is followed by the
 * restart `npm start` would do. Then it waits (bounded) for quiescence, checks the invariants from
 * PostgreSQL and Kafka, prints a table, and exits non-zero on any violation.
 */
import { randomUUID } from 'node:crypto';
import { createConnection } from 'node:net';
import pg from 'pg';
import {
  ensureJwtKeys,
  generateCode,
  prepareInfrastructure,
  serviceEnv,
  services,
  stackUp,
  startService,
  stopService,
} from '@eventflow/system-harness';
import { checkInvariants, consumerLag, deadLetterEnds, deadLettersSince, readState, type Databases } from './checks.js';
import { EntryPoint } from './entry-point.js';
import { FaultInjector, faultKinds, faultPlan, waitAllReady, type FaultKind, type Instance } from './faults.js';
import { Client, chooseVariant, defaultMix, perform, registerUser, type ChaosUser, type Operation } from './load.js';
import { Random } from './random.js';

// ------------------------------------------------------------------------------------ options
const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const profiles = {
  // Part of npm test: at least 1,000 orders and one fault of every kind, a few minutes.
  // The rates leave the load running longer than the faults take (a restart of the registry or
  // Kafka takes 15-45 s on a loaded 2-core machine), so every fault happens under load.
  short: { orders: 1_000, rate: 6, faults: faultKinds.length, users: 40 },
  long: { orders: 10_000, rate: 12, faults: 3 * faultKinds.length, users: 120 },
};
const profileName = (option('profile') ?? 'short') as keyof typeof profiles;
if (!(profileName in profiles)) throw new Error(`--profile is short or long, not ${profileName}`);
const profile = profiles[profileName];
const seed = Number(option('seed') ?? Math.floor(Math.random() * 2 ** 31));
const orders = Number(option('orders') ?? profile.orders);
const rate = Number(option('rate') ?? profile.rate);
const faultCount = Number(option('faults') ?? profile.faults);
const userCount = Number(option('users') ?? Math.max(profile.users, Math.ceil(orders / 50)));
const quiescenceTimeoutMs = 300_000;
for (const [name, value] of Object.entries({ seed, orders, rate, faults: faultCount, users: userCount })) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
}

const t0 = Date.now();
const log = (line: string) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const random = new Random(seed);
const runId = randomUUID().slice(0, 8);

log(`profile ${profileName}: seed ${seed}, ${orders} orders at ${rate}/s, ${userCount} users, ${faultCount} faults (reproduce: npm run chaos -- --seed ${seed} --orders ${orders} --rate ${rate} --faults ${faultCount} --users ${userCount})`);

// ------------------------------------------------------------------------------------ system
const portTaken = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

const stack = stackUp();
if (!args.includes('--no-generate')) generateCode();
await prepareInfrastructure(stack);
const keys = ensureJwtKeys();
const instances: Instance[] = services.flatMap((spec) =>
  (['a', 'b'] as const).map((name) => {
    const port = spec.port + (name === 'a' ? 0 : 10);
    const env = serviceEnv({ ...spec, port }, stack, keys);
    const options = { instance: { name, port } };
    return { spec, env, options, running: undefined as unknown as Instance['running'] };
  }),
);
const busy = (await Promise.all(instances.map(async (i) => ((await portTaken(i.options.instance.port)) ? i.options.instance.port : 0)))).filter(Boolean);
if (busy.length > 0) throw new Error(`ports ${busy.join(', ')} are taken (is npm start running?); the chaos run needs them`);

const stopAll = async () => {
  await Promise.all(instances.filter((i) => i.running).map((i) => stopService(i.running.id)));
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

for (const instance of instances) instance.running = startService(instance.spec, instance.env, instance.options);
try {
  await waitAllReady(instances, 120_000);
} catch (error) {
  await stopAll();
  throw error;
}
log(`${instances.length} instances ready: ${instances.map((i) => `${i.running.id}:${i.running.spec.port}`).join(' ')}`);

const entryPoint = new EntryPoint(instances.map((i) => ({ service: i.spec.name, prefixes: i.spec.prefixes, port: i.options.instance.port })));
const baseUrl = await entryPoint.start();
const client = new Client(baseUrl);
const databases: Databases = {
  users: stack['USER_DATABASE_URL'] ?? '',
  orders: stack['ORDER_DATABASE_URL'] ?? '',
  billing: stack['BILLING_DATABASE_URL'] ?? '',
  notifications: stack['NOTIFICATION_DATABASE_URL'] ?? '',
};
const brokers = stack['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
const dlqStart = await deadLetterEnds(brokers);

let exitCode = 1;
try {
  // ---------------------------------------------------------------------------------- users
  const users: ChaosUser[] = [];
  for (let i = 0; i < userCount; i += 8) {
    users.push(...(await Promise.all(Array.from({ length: Math.min(8, userCount - i) }, (_, k) => registerUser(client, runId, i + k)))));
  }
  const operations: Operation[] = [];
  const userIds = users.map((u) => u.id);
  // Both consumers of UserCreated must have the user before the load: an order for a user whose
  // account or address is missing is a different (tested) story.
  const until = async (what: string, probe: () => Promise<boolean>, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(250);
    }
  };
  const countIn = async (url: string, sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query<{ n: number }>(sql, [userIds])).rows[0]?.n ?? 0;
    } finally {
      await c.end();
    }
  };
  await until('billing accounts and notification recipients of every user', async () =>
    (await countIn(databases.billing, 'SELECT count(*)::int AS n FROM accounts WHERE user_id = ANY($1::uuid[])')) === users.length &&
    (await countIn(databases.notifications, 'SELECT count(*)::int AS n FROM recipients WHERE user_id = ANY($1::uuid[])')) === users.length,
  );
  for (const user of users) operations.push(await perform(client, user, 'deposit', random.int(5_000, 15_000), 'keyed', random));
  log(`${users.length} users registered and funded`);

  // ---------------------------------------------------------------------------------- load + faults
  const loadStartedAt = Date.now();
  // Faults draw from their own seeded source: the load's draws interleave with them in real time.
  const faultRandom = new Random(seed ^ 0x5eed);
  const injector = new FaultInjector(instances, faultRandom, loadStartedAt, log);
  const plan = faultPlan(faultRandom, faultCount);
  // One fault at a time: after a seeded warm-up, each follows the recovery from the previous one
  // after a seeded pause, so faults never overlap and each is measured on its own.
  const faults = (async () => {
    await sleep(faultRandom.int(5_000, 10_000));
    for (const kind of plan) {
      await injector.inject(kind as FaultKind);
      await sleep(faultRandom.int(2_000, 8_000));
    }
  })();

  const inFlight = new Set<Promise<void>>();
  const launch = (work: Promise<Operation>) => {
    const p = work.then((op) => void operations.push(op)).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  for (let i = 0; i < orders; i++) {
    const due = loadStartedAt + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    // Bounded concurrency: while the system is down, requests wait for their timeout.
    while (inFlight.size >= 200) await Promise.race(inFlight);
    const user = random.pick(users);
    launch(perform(client, user, 'order', random.int(...defaultMix.prices), chooseVariant(random), random));
    if (random.chance(defaultMix.depositChance)) launch(perform(client, random.pick(users), 'deposit', random.int(...defaultMix.deposits), chooseVariant(random), random));
    if (random.chance(defaultMix.withdrawalChance)) launch(perform(client, random.pick(users), 'withdrawal', random.int(...defaultMix.withdrawals), chooseVariant(random), random));
    if (i > 0 && i % 500 === 0) log(`${i} orders sent`);
  }
  await Promise.all(inFlight);
  const loadSeconds = (Date.now() - loadStartedAt) / 1000;
  log(`load done: ${orders} orders in ${loadSeconds.toFixed(1)} s; waiting for the remaining faults`);
  await faults;
  const loadEndedAt = Date.now();

  // ---------------------------------------------------------------------------------- quiescence
  let quiet = false;
  const quiescenceDeadline = Date.now() + quiescenceTimeoutMs;
  while (Date.now() < quiescenceDeadline) {
    const state = await readState(databases, userIds);
    const lag = await consumerLag(brokers);
    const pending = state.orders.filter((o) => o.status === 'PENDING_PAYMENT').length;
    const final = state.orders.filter((o) => o.status !== 'PENDING_PAYMENT').length;
    const mailed = new Set(state.messages.map((m) => m.order_id)).size;
    const unpublished = Object.values(state.unpublished).reduce((a, b) => a + b, 0);
    const lagTotal = Object.values(lag).reduce((a, b) => a + b, 0);
    if (pending === 0 && mailed >= final && unpublished === 0 && lagTotal === 0) {
      quiet = true;
      break;
    }
    log(`waiting for quiescence: ${pending} pending orders, ${final - mailed} e-mails due, ${unpublished} unpublished events, consumer lag ${lagTotal}`);
    await sleep(2_000);
  }
  const quiescenceSeconds = (Date.now() - loadEndedAt) / 1000;
  log(quiet ? `quiescent ${quiescenceSeconds.toFixed(1)} s after the load and the faults` : `NOT quiescent after ${quiescenceTimeoutMs / 1000} s; checking anyway`);

  // ---------------------------------------------------------------------------------- checks
  const state = await readState(databases, userIds);
  const results = checkInvariants(state, operations, await deadLettersSince(brokers, dlqStart), await consumerLag(brokers));
  results.push({ name: 'quiescence within the bound', checked: 1, violations: quiet ? [] : [`not quiescent within ${quiescenceTimeoutMs / 1000} s`] });

  // ---------------------------------------------------------------------------------- report
  const count = (f: (o: Operation) => boolean) => operations.filter(f).length;
  const ok = (o: Operation) => o.attempts.some((a) => a.id);
  const paid = state.orders.filter((o) => o.status === 'PAID').length;
  const failed = state.orders.filter((o) => o.status === 'PAYMENT_FAILED').length;
  const settle = state.orders
    .filter((o) => o.completed_at)
    .map((o) => o.completed_at!.getTime() - o.created_at.getTime())
    .sort((a, b) => a - b);
  const pct = (p: number) => (settle.length ? (settle[Math.min(settle.length - 1, Math.floor(p * settle.length))]! / 1000).toFixed(2) : '-');
  console.log('\n━━ chaos run');
  console.log(`seed ${seed} · profile ${profileName} · ${instances.length} service instances · entry point ${baseUrl}`);
  console.log(
    `orders sent ${count((o) => o.kind === 'order')}, accepted ${count((o) => o.kind === 'order' && ok(o))}; stored ${state.orders.length}: PAID ${paid}, PAYMENT_FAILED ${failed}`,
  );
  console.log(
    `deposits ${count((o) => o.kind === 'deposit')} (accepted ${count((o) => o.kind === 'deposit' && ok(o))}), withdrawals ${count((o) => o.kind === 'withdrawal')} (accepted ${count((o) => o.kind === 'withdrawal' && ok(o))}); ` +
      `keyed requests sent twice at once ${count((o) => o.variant === 'duplicate')}, re-sent after a client timeout ${count((o) => o.variant === 'resent-after-timeout')}`,
  );
  // What the clients were told (each attempt): refusals explain the accepted counts.
  const statuses = new Map<string, number>();
  for (const op of operations) for (const a of op.attempts) statuses.set(a.status === 0 ? (a.error ?? 'no answer') : String(a.status), (statuses.get(a.status === 0 ? (a.error ?? 'no answer') : String(a.status)) ?? 0) + 1);
  console.log(`answers: ${[...statuses].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  console.log(`entry point: ${entryPoint.failovers} fail-overs to another instance, ${entryPoint.unavailable} requests with no ready instance (503)`);
  console.log(`order settlement latency (placed → final): p50 ${pct(0.5)} s, p99 ${pct(0.99)} s, max ${pct(1)} s`);
  console.log(`time to quiescence after load and faults: ${quiescenceSeconds.toFixed(1)} s · total run ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

  console.log('faults');
  console.log('  #  kind              target                   at (s)  back after (s)  start→serving (s)  all ready (s)');
  for (const [i, f] of injector.records.entries()) {
    console.log(
      `  ${String(i + 1).padStart(2)} ${f.kind.padEnd(17)} ${f.target.padEnd(24)} ${f.at.toFixed(1).padStart(6)}  ${(f.downMs / 1000).toFixed(1).padStart(14)}  ` +
        `${f.startToServeMs === undefined ? '-'.padStart(17) : (f.startToServeMs / 1000).toFixed(1).padStart(17)}  ${(f.recoveredMs / 1000).toFixed(1).padStart(13)}`,
    );
  }
  const kinds = faultKinds.map((k) => `${k} ${injector.records.filter((r) => r.kind === k).length}`).join(', ');
  const afterLoad = injector.records.filter((r) => r.at > loadSeconds).length;
  console.log(`  per kind: ${kinds}; load ran 0-${loadSeconds.toFixed(0)} s${afterLoad > 0 ? `, ${afterLoad} fault(s) began after it` : ', every fault began under load'}\n`);

  console.log('invariants');
  console.log('  check                                                          checked  violations');
  for (const r of results) console.log(`  ${r.name.padEnd(62)} ${String(r.checked).padStart(7)}  ${String(r.violations.length).padStart(10)}`);
  const violations = results.reduce((n, r) => n + r.violations.length, 0);
  for (const r of results.filter((x) => x.violations.length > 0)) {
    console.log(`\n  ${r.name}:`);
    for (const v of r.violations.slice(0, 20)) console.log(`    - ${v}`);
    if (r.violations.length > 20) console.log(`    … and ${r.violations.length - 20} more`);
  }
  console.log(`\nviolations: ${violations}`);
  exitCode = violations === 0 ? 0 : 1;
} catch (error) {
  console.error(`chaos run failed: ${error instanceof Error ? error.stack : String(error)}`);
} finally {
  await entryPoint.stop();
  await stopAll();
}
process.exit(exitCode);
