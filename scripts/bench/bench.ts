/**
 * `npm run bench`: the whole system from production builds on this machine, driven with
 * POST /orders at rising open-loop rates, measured from the services' own rows, with PostgreSQL's
 * TPC-B rate and the HTTP floor as anchors from the same run. See docs/performance.md.
 *
 *   npm run bench                      full run (about 10 minutes), writes bench/results/
 *   npm run bench -- --smoke           a few seconds; checks every placed order settles, no timing assertions
 *   npm run bench -- --rates 20,40,80 --seconds 20 --users 200 --closed 64
 *   npm run bench -- --growth 200000   also pre-fills that many settled orders and repeats the peak step
 *   npm run bench -- --profile         services run with --cpu-prof; profiles land in .stack/profiles/
 *   npm run bench -- --no-build        use the existing apps/* /dist builds
 *   npm run bench -- --instances 2     N instances of every service; only open-loop steps (default 40,60/s) sent
 *                                      round robin over order-service's instances, each user placing two orders
 *                                      in a row, with the per-user order check; writes bench/results/<…>-instances<N>.*
 */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import {
  ensureJwtKeys,
  generateCode,
  prepareInfrastructure,
  repoRoot,
  serviceEnv,
  services,
  stackUp,
  stateDir,
  startGateway,
  startService,
  stopService,
  toolKafkaSettings,
  waitUntilReady,
  type RunningService,
} from '@eventflow/system-harness';
import { kafkaConnection, namespaced } from '@eventflow/events';
import { runHttpFloor, runPgbench } from './anchors.js';
import { BenchDatabases } from './database.js';
import { closedLoop, openLoop, percentile, sortedNumbers, type BenchUser, type LoadResult } from './load.js';
import { monitor, postgresProcesses, processGroupOf, singleProcess, stackPidFile, type ProcessGroup } from './procs.js';
import { checkPerUserOrder, perUserOrderHolds } from './ordering.js';
import { markdownSummary, markdownTable, perUserOrderSummary, stepLabel, svgChart } from './report.js';
import type { BenchResults, Percentiles, StepResult } from './types.js';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    build: { type: 'boolean', default: true },
    'no-build': { type: 'boolean', default: false },
    rates: { type: 'string' },
    seconds: { type: 'string' },
    users: { type: 'string' },
    closed: { type: 'string' },
    growth: { type: 'string' },
    profile: { type: 'boolean', default: false },
    /** Only the rising open-loop steps (e.g. for profiling at one rate). */
    'rates-only': { type: 'boolean', default: false },
    'drain-timeout': { type: 'string' },
    /** KEY=VALUE added to every service's environment (repeatable), e.g. to compare a setting. */
    env: { type: 'string', multiple: true },
    /** Instances of every service (the second on port + 10, as `npm run chaos` runs them): only the instances steps run. */
    instances: { type: 'string' },
  },
});
const instancesMode = args.instances !== undefined;

const smoke = args.smoke ?? false;
const settings = {
  rates: (args.rates ?? (smoke ? '10' : instancesMode ? '40,80,120' : '10,20,30,40,60,80,100,130,160,200,250,300,350,400,500')).split(',').map(Number),
  instances: Number(args.instances ?? 1),
  stepSeconds: Number(args.seconds ?? (smoke ? 3 : 20)),
  users: Number(args.users ?? (smoke ? 4 : 200)),
  closedConnections: Number(args.closed ?? (smoke ? 4 : 64)),
  growthOrders: Number(args.growth ?? 0),
  drainTimeoutSeconds: Number(args['drain-timeout'] ?? (smoke ? 30 : 90)),
  pgbench: smoke ? { scale: 1, clients: 2, seconds: 2 } : { scale: 10, clients: 8, seconds: 15 },
  httpFloor: smoke ? { connections: 8, seconds: 1 } : { connections: 32, seconds: 8 },
  price: 100,
  profile: args.profile ?? false,
  ratesOnly: args['rates-only'] ?? false,
  env: Object.fromEntries((args.env ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)])),
};
if (!Number.isInteger(settings.instances) || settings.instances < 1 || settings.instances > 9) throw new Error(`--instances must be 1-9, not ${args.instances}`);

const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const git = (...a: string[]) => execFileSync('git', a, { cwd: repoRoot, encoding: 'utf8' }).trim();

// Set once the system is up; runStep reads them.
let processGroups: ProcessGroup[] = [];
let running: RunningService[] = [];
let benchUserIds: string[] = [];

const stack = stackUp();
if (args.build && !args['no-build']) {
  generateCode();
  log('building the services (esbuild, as the container image does)');
  execFileSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static', ...services.map((s) => `--projects=${s.name}`)], {
    cwd: repoRoot,
    stdio: 'inherit',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
}
await prepareInfrastructure(stack);

const adminUrl = stack['PG_ADMIN_URL'];
if (!adminUrl) throw new Error('the stack did not provide PG_ADMIN_URL');
const db = new BenchDatabases(adminUrl);

log(`anchor: pgbench TPC-B (scale ${settings.pgbench.scale}, ${settings.pgbench.clients} clients, ${settings.pgbench.seconds} s)`);
const pgbench = await runPgbench(db, adminUrl, settings.pgbench);
log(`pgbench: ${pgbench.tps.toFixed(0)} tps`);

const keys = ensureJwtKeys();
const profileDir = join(repoRoot, '.stack', 'profiles');
if (settings.profile) mkdirSync(profileDir, { recursive: true });
// Instance 0 is the plain service on its usual port (ids and logs as in `npm start`); instance k
// (b, c, …) is a named instance of the harness on port + 10·k, the scheme `npm run chaos` uses.
running = services.flatMap((spec) =>
  Array.from({ length: settings.instances }, (_, k) => {
    const instance = k === 0 ? undefined : { name: String.fromCharCode(97 + k), port: spec.port + 10 * k };
    const id = instance ? `${spec.name}-${instance.name}` : spec.name;
    return startService(spec, { ...serviceEnv(instance ? { ...spec, port: instance.port } : spec, stack, keys), ...settings.env }, {
      mode: 'build',
      nodeArgs: settings.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${id}.${Date.now()}.cpuprofile`] : [],
      ...(instance ? { instance } : {}),
    });
  }),
);
const stopAll = () => Promise.all(running.map((service) => stopService(service.id)));
let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
const kafka = new Kafka({ clientId: 'bench', ...kafkaConnection(toolKafkaSettings({ ...process.env, ...stack })), logLevel: logLevel.NOTHING });
const admin = kafka.admin();

try {
  await Promise.all(running.map((service) => waitUntilReady(service)));
  gateway = await startGateway();
  await admin.connect();
  const port = (name: string) => services.find((s) => s.name === name)?.port ?? 0;
  const direct = `http://127.0.0.1:${port('order-service')}`;
  // Every order-service instance, for the round robin of --instances.
  const orderInstances = running.filter((s) => s.spec.name === 'order-service').map((s) => `http://127.0.0.1:${s.spec.port}`);
  const viaGateway = 'http://127.0.0.1:8080';

  processGroups = [
    // One group per process: with --instances, `<service>-b` etc. next to `<service>`.
    ...running.map((service) => ({ name: service.id, pids: singleProcess(service.pid) })),
    { name: 'kafka', pids: processGroupOf(stackPidFile(stateDir, 'kafka')) },
    { name: 'registry', pids: processGroupOf(stackPidFile(stateDir, 'registry')) },
    { name: 'postgres', pids: postgresProcesses },
  ];

  log('anchor: HTTP floor (autocannon on /health/live)');
  const httpFloor = [await runHttpFloor(`${direct}/health/live`, settings.httpFloor)];
  for (const floor of httpFloor) log(`HTTP floor ${floor.url}: ${floor.requestsPerSecond} req/s`);

  log(`creating ${settings.users} funded users`);
  const users = await createUsers(settings.users, `http://127.0.0.1:${port('user-service')}`, `http://127.0.0.1:${port('billing-service')}`);
  benchUserIds = users.map((u) => u.id);
  const userIds = benchUserIds;

  // Warm-up (JIT, pools, Kafka connections), not reported.
  await openLoop({ baseUrl: orderInstances, users, rate: Math.min(10, settings.rates[0] ?? 10), seconds: smoke ? 1 : 5, price: settings.price });
  await drain(userIds);

  const steps: StepResult[] = [];
  const record = (step: StepResult) => {
    steps.push(step);
    log(
      `${stepLabel(step)}: accepted ${step.acceptedPerSecond.toFixed(1)}/s, settled ${step.settledPerSecond.toFixed(1)}/s, ` +
        `e-mail p50/p99 ${step.toEmail.p50 ?? '—'}/${step.toEmail.p99 ?? '—'} ms, drain ${step.drainSeconds ?? '—'} s, ` +
        `CPU ${step.serviceCpuMsPerSettledOrder?.toFixed(1) ?? '—'} ms/order` +
        (step.perUserOrder ? `, per-user order: ${perUserOrderSummary(step.perUserOrder)}` : ''),
    );
  };

  let overloaded = 0;
  for (const rate of instancesMode ? [] : settings.rates) {
    const step = await runStep({ kind: 'open', target: 'direct', offeredRate: rate }, () =>
      openLoop({ baseUrl: direct, users, rate, seconds: settings.stepSeconds, price: settings.price }),
    );
    record(step);
    // Past saturation one more step shows the overload behaviour; more would only take time.
    if (step.settledPerSecond < 0.8 * step.offeredPerSecond || step.drainSeconds === null) overloaded += 1;
    if (overloaded >= 2) break;
  }
  if (instancesMode) {
    // The same open-loop rates over every instance of order-service, in turn; each user places
    // two orders 1/rate apart (with two instances, one on each), the case per-user order must survive.
    for (const rate of settings.rates) {
      record(
        await runStep({ kind: 'open', target: 'direct', offeredRate: rate, instances: settings.instances, perUser: 2 }, () =>
          openLoop({ baseUrl: orderInstances, users, rate, seconds: settings.stepSeconds, price: settings.price, perUser: 2 }),
        ),
      );
    }
  }
  const peak = steps.reduce((best, s) => (s.settledPerSecond > best.settledPerSecond ? s : best), steps[0] as StepResult);
  const half = Math.max(1, Math.round(peak.settledPerSecond / 2));
  if (!smoke && !settings.ratesOnly && !instancesMode) {
    record(await runStep({ kind: 'open', target: 'direct', offeredRate: half, note: 'half of peak' }, () => openLoop({ baseUrl: direct, users, rate: half, seconds: settings.stepSeconds, price: settings.price })));
  }
  if (!settings.ratesOnly && !instancesMode) {
    record(await runStep({ kind: 'open', target: 'gateway', offeredRate: half, note: 'half of peak' }, () => openLoop({ baseUrl: viaGateway, users, rate: half, seconds: settings.stepSeconds, price: settings.price })));
    record(
      await runStep({ kind: 'closed', target: 'direct', connections: settings.closedConnections }, () =>
        closedLoop({ baseUrl: direct, users, connections: settings.closedConnections, seconds: settings.stepSeconds, price: settings.price }),
      ),
    );
  }
  if (settings.growthOrders > 0 && !instancesMode) {
    log(`growth: pre-filling ${settings.growthOrders} settled orders`);
    await prefill(settings.growthOrders);
    const rate = peak.offeredRate ?? 40;
    record(await runStep({ kind: 'open', target: 'direct', offeredRate: rate, note: `after ${settings.growthOrders} orders` }, () => openLoop({ baseUrl: direct, users, rate, seconds: settings.stepSeconds, price: settings.price })));
  }

  const commit = git('rev-parse', '--short', 'HEAD');
  const dirty = git('status', '--porcelain', '--', 'apps', 'libs').length > 0;
  const processNames = running.map((s) => s.id);
  const results: BenchResults = {
    startedAt: new Date().toISOString(),
    commit,
    dirty,
    smoke,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(totalmem() / 2 ** 30), node: process.versions.node },
    settings,
    anchors: { pgbench, httpFloor },
    steps,
    headline: {
      peakSettledPerSecond: peak.settledPerSecond,
      peakStep: stepLabel(peak),
      R: peak.settledPerSecond / pgbench.tps,
      serviceCpuMsPerSettledOrder: peak.serviceCpuMsPerSettledOrder,
      maxServiceRssMb: Math.max(...steps.flatMap((s) => processNames.map((n) => s.peakMemoryMb[n] ?? 0))),
      settledPerHttpFloor: peak.settledPerSecond / (httpFloor[0]?.requestsPerSecond ?? 1),
    },
  };
  writeOutputs(results);

  if (smoke) {
    // The smoke run asserts function, never speed: every accepted order settled with one e-mail.
    const stuck = steps.reduce((sum, s) => sum + s.neverSettled, 0);
    const accepted = steps.reduce((sum, s) => sum + s.acceptedPerSecond * s.seconds, 0);
    if (stuck > 0 || accepted === 0) throw new Error(`smoke: ${stuck} accepted orders never settled (accepted ${accepted.toFixed(0)})`);
    const disorder = steps.filter((s) => s.perUserOrder && !perUserOrderHolds(s.perUserOrder));
    if (disorder.length > 0) throw new Error(`smoke: per-user order broken: ${disorder.flatMap((s) => s.perUserOrder?.examples ?? []).join('; ')}`);
    log(`smoke ok: ${accepted.toFixed(0)} orders accepted, all settled, per-user order held`);
  }
} finally {
  await admin.disconnect().catch(() => undefined);
  await gateway?.close();
  await stopAll();
  await db.close();
}

async function createUsers(count: number, userUrl: string, billingUrl: string): Promise<BenchUser[]> {
  const run = Date.now().toString(36);
  const users: BenchUser[] = [];
  const post = async (url: string, body: unknown, token?: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const one = async (i: number) => {
    const email = `bench-${run}-${i}@example.com`;
    const password = 'bench password';
    const created = await post(`${userUrl}/users`, { email, password, name: `Bench ${i}` });
    if (created.status !== 201) throw new Error(`registering a bench user answered ${created.status}: ${JSON.stringify(created.body)}`);
    const login = await post(`${userUrl}/auth/login`, { email, password });
    const token = String(login.body['accessToken']);
    // The account appears when billing has consumed UserCreated.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const deposit = await post(`${billingUrl}/billing/accounts/me/deposits`, { amount: 1_000_000_000 }, token);
      if (deposit.status === 201 || deposit.status === 200) break;
      if (deposit.status !== 404 || Date.now() > deadline) throw new Error(`deposit for a bench user answered ${deposit.status}: ${JSON.stringify(deposit.body)}`);
      await sleep(100);
    }
    users.push({ id: String(created.body['id']), token });
  };
  for (let i = 0; i < count; i += 8) await Promise.all(Array.from({ length: Math.min(8, count - i) }, (_, j) => one(i + j)));
  return users;
}

/** Waits until every order of the bench users is settled; returns the seconds it took, or null after the timeout. */
async function drain(userIds: string[]): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < settings.drainTimeoutSeconds * 1000) {
    if ((await db.unsettled(userIds)) <= 0) return (Date.now() - started) / 1000;
    await sleep(100);
  }
  return null;
}

async function consumerLag(): Promise<Record<string, number>> {
  const lag: Record<string, number> = {};
  const ends = new Map<string, Map<number, number>>();
  for (const group of ['billing-service', 'order-service', 'notification-service']) {
    let total = 0;
    // The system runs in this process's Kafka namespace (`test.` under npm test).
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId: namespaced(group) })) {
      if (topic.endsWith('.dlq')) continue;
      if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)])));
      for (const { partition, offset } of partitions) total += Math.max(0, (ends.get(topic)?.get(partition) ?? 0) - Math.max(0, Number(offset)));
    }
    lag[group] = total;
  }
  return lag;
}

function percentiles(values: number[]): Percentiles {
  const sorted = sortedNumbers(values);
  const round = (v: number | null) => (v === null ? null : Math.round(v));
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), count: sorted.length };
}

async function runStep(
  shape: Pick<StepResult, 'kind' | 'target' | 'offeredRate' | 'connections' | 'note' | 'instances' | 'perUser'>,
  load: () => Promise<LoadResult>,
): Promise<StepResult> {
  const userIds = benchUserIds;
  const before = await db.counters();
  const usage = monitor(processGroups);
  const from = new Date();
  const result = await load();
  // The step is the sending window; answers still in flight after it belong to it but do not lengthen it.
  const to = new Date(from.getTime() + result.seconds * 1000);
  const used = usage.stop();
  const after = await db.counters();
  const backlogAtEnd = { unsettledOrders: await db.unsettled(userIds), outbox: await db.outboxBacklog(), consumerLag: await consumerLag() };
  const drainSeconds = await drain(userIds);
  const settled = await db.settledBetween(userIds, from, to);
  const latencies = await db.latencies(userIds, from, to);
  const seconds = (to.getTime() - from.getTime()) / 1000;
  const accepted = result.records.filter((r) => r.status === 201).length;
  const statuses: Record<string, number> = {};
  for (const r of result.records) if (r.status !== 201 && r.status !== 503) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const serviceCpu = running.reduce((sum, s) => sum + (used.cpuMs[s.id] ?? 0), 0);
  const orderIds = result.records.flatMap((r) => (r.orderId ? [r.orderId] : []));
  const perUserOrder = orderIds.length > 0 ? checkPerUserOrder(result.records, await db.settlementFacts(orderIds)) : undefined;
  const orders = Math.max(1, accepted);
  return {
    ...shape,
    seconds,
    sent: result.records.length + Object.values(result.errors).reduce((a, b) => a + b, 0),
    offeredPerSecond: (result.records.length + Object.values(result.errors).reduce((a, b) => a + b, 0)) / seconds,
    acceptedPerSecond: accepted / seconds,
    rejected503: result.records.filter((r) => r.status === 503).length,
    otherStatuses: statuses,
    transportErrors: result.errors,
    settled,
    settledPerSecond: settled / seconds,
    http: percentiles(result.records.map((r) => r.latencyMs)),
    toFinal: percentiles(latencies.flatMap((l) => (l.toFinalMs === null ? [] : [l.toFinalMs]))),
    toEmail: percentiles(latencies.flatMap((l) => (l.toEmailMs === null ? [] : [l.toEmailMs]))),
    neverSettled: latencies.filter((l) => l.toEmailMs === null).length,
    hops: Object.fromEntries(Object.entries(orderIds.length > 0 ? await db.hops(orderIds) : {}).map(([name, values]) => [name, percentiles(values)])),
    backlogAtEnd,
    drainSeconds,
    cpuMs: Object.fromEntries(Object.entries(used.cpuMs).map(([k, v]) => [k, Math.round(v)])),
    peakMemoryMb: used.peakMemoryMb,
    serviceCpuMsPerSettledOrder: settled > 0 ? serviceCpu / settled : null,
    commitsPerOrder: (after.commits - before.commits) / orders,
    walBytesPerOrder: Math.round((after.walBytes - before.walBytes) / orders),
    ...(perUserOrder ? { perUserOrder } : {}),
  };
}

/** Inserts settled orders with their e-mails, payments and inbox rows, as months of traffic would leave them. */
async function prefill(count: number): Promise<void> {
  const uid = 'gen_random_uuid()';
  await db.query(
    'orders',
    `INSERT INTO orders (id, user_id, price, status, created_at, updated_at, completed_at)
     SELECT ${uid}, ${uid}, 100, 'PAID', now() - interval '1 day', now() - interval '1 day', now() - interval '1 day' FROM generate_series(1, $1)`,
    [count],
  );
  for (const database of ['billing', 'orders', 'notifications']) {
    await db.query(database, `INSERT INTO processed_events (consumer, event_id, event_type) SELECT 'prefill', ${uid}, 'Prefill' FROM generate_series(1, $1)`, [count]);
  }
  for (const database of ['billing', 'orders']) {
    await db.query(
      database,
      `INSERT INTO outbox_events (event_id, event_type, topic, key, payload, headers, published_at)
       SELECT ${uid}, 'Prefill', 'prefill', 'prefill', '{}'::jsonb, '{}'::jsonb, now() FROM generate_series(1, $1)`,
      [count],
    );
  }
  for (const database of ['billing', 'orders', 'notifications']) await db.query(database, 'VACUUM ANALYZE');
}

function writeOutputs(results: BenchResults): void {
  // Only a complete run is a result; smoke, profiling and partial runs go to .stack/bench.
  const partial = smoke || settings.profile || settings.ratesOnly || args.rates !== undefined || Object.keys(settings.env).length > 0;
  const outDir = partial ? join(repoRoot, '.stack', 'bench') : join(repoRoot, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const base = `${results.startedAt.slice(0, 10)}-${results.commit}${instancesMode ? `-instances${settings.instances}` : ''}`;
  writeFileSync(join(outDir, `${base}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outDir, `${base}.md`), markdownSummary(results));
  writeFileSync(join(outDir, `${base}.svg`), svgChart(results));
  log(`results: ${join(outDir, base)}.{json,md,svg}`);
  // latest.* and the README show the full run, not the instances comparison.
  if (partial || instancesMode) return;
  writeFileSync(join(outDir, 'latest.svg'), svgChart(results));
  writeFileSync(join(outDir, 'latest.md'), markdownSummary(results));
  // The README shows the latest table between markers.
  const readmePath = join(repoRoot, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (readme.includes(start) && readme.includes(end)) {
    const block = `${start}\nLatest \`npm run bench\` (${results.startedAt.slice(0, 10)}, commit ${results.commit}): pgbench ${results.anchors.pgbench.tps.toFixed(0)} tps, peak ${results.headline.peakSettledPerSecond.toFixed(1)} settled orders/s, **R = ${results.headline.R.toFixed(3)}**, ${results.headline.serviceCpuMsPerSettledOrder?.toFixed(1) ?? '—'} ms CPU per order ([results](bench/results/${base}.md)).\n\n![benchmark](bench/results/latest.svg)\n\n${markdownTable(results)}\n${end}`;
    writeFileSync(readmePath, readme.slice(0, readme.indexOf(start)) + block + readme.slice(readme.indexOf(end) + end.length));
  }
}
