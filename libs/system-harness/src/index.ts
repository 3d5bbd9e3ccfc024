/**
 * Everything `npm start`, `npm test` and the system tests need to run the whole system
 * locally: the stack's connection settings, the JWT key pair, each service's environment
 * (the same variables the Helm chart sets), migrations, provisioning, the service processes
 * and the HTTP entry point.
 */
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createGateway } from './gateway.js';

export const repoRoot = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
export const stateDir = join(repoRoot, '.stack');
export const gatewayPort = Number(process.env['GATEWAY_PORT'] ?? 8080);

/**
 * The Kafka namespace (KAFKA_NAMESPACE, see @eventflow/events) of the systems that `npm test` and
 * the tests start: their topics, consumer groups, subjects, poison messages and dead letters stay
 * apart from those of the system `npm start` runs on the same stack. The stack's ACLs allow it.
 */
export const testKafkaNamespace = 'test.';

export interface ServiceSpec {
  name: 'user-service' | 'billing-service' | 'order-service' | 'notification-service';
  port: number;
  /** Path prefixes the ingress (and the local gateway) route to it. */
  prefixes: string[];
  /** The `stack env` variable with the service's runtime role (DML only): the service's DATABASE_URL. */
  databaseUrlVar: string;
  /** The `stack env` variable with its migration role (owns the tables): the migrate command's MIGRATION_DATABASE_URL. */
  migrationDatabaseUrlVar: string;
  extraEnv?: Record<string, string>;
}

export const services: ServiceSpec[] = [
  { name: 'user-service', port: 3001, prefixes: ['/users', '/auth'], databaseUrlVar: 'USER_DATABASE_URL', migrationDatabaseUrlVar: 'USER_MIGRATION_DATABASE_URL' },
  { name: 'billing-service', port: 3002, prefixes: ['/billing'], databaseUrlVar: 'BILLING_DATABASE_URL', migrationDatabaseUrlVar: 'BILLING_MIGRATION_DATABASE_URL' },
  { name: 'order-service', port: 3003, prefixes: ['/orders'], databaseUrlVar: 'ORDER_DATABASE_URL', migrationDatabaseUrlVar: 'ORDER_MIGRATION_DATABASE_URL' },
  { name: 'notification-service', port: 3004, prefixes: ['/notifications'], databaseUrlVar: 'NOTIFICATION_DATABASE_URL', migrationDatabaseUrlVar: 'NOTIFICATION_MIGRATION_DATABASE_URL' },
];

export const serviceDir = (name: string): string => join(repoRoot, 'apps', name);

function run(command: string, args: string[], options: { quiet?: boolean } = {}): string {
  return execFileSync(command, args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', options.quiet ? 'pipe' : 'inherit'] });
}

/** Starts (or finds running) Kafka, the schema registry and PostgreSQL; returns their settings. */
export function stackUp(): Record<string, string> {
  execFileSync('bash', ['scripts/stack/stack', 'up'], { cwd: repoRoot, stdio: 'inherit' });
  return stackEnv();
}

export function stackEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of run('bash', ['scripts/stack/stack', 'env'], { quiet: true }).split('\n')) {
    const match = line.match(/^export ([A-Z0-9_]+)=(.*)$/);
    if (match?.[1] && match[2] !== undefined) env[match[1]] = match[2].replace(/^['"]|['"]$/g, '');
  }
  return env;
}

export interface KeyPair {
  privateKey: string;
  publicKey: string;
}

/** An Ed25519 pair for signing access tokens, generated once per checkout and kept in .stack/keys. */
export function ensureJwtKeys(): KeyPair {
  const dir = join(stateDir, 'keys');
  const privatePath = join(dir, 'jwt-ed25519.key.pem');
  const publicPath = join(dir, 'jwt-ed25519.pub.pem');
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    mkdirSync(dir, { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    writeFileSync(privatePath, privateKey, { mode: 0o600 });
    writeFileSync(publicPath, publicKey);
  }
  return { privateKey: readFileSync(privatePath, 'utf8'), publicKey: readFileSync(publicPath, 'utf8') };
}

/** The environment of one service: exactly the variables its config schema reads. */
export function serviceEnv(spec: ServiceSpec, stack: Record<string, string>, keys: KeyPair): Record<string, string> {
  const databaseUrl = stack[spec.databaseUrlVar];
  if (!databaseUrl) throw new Error(`the stack did not provide ${spec.databaseUrlVar}`);
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(spec.port),
    LOG_LEVEL: process.env['LOG_LEVEL'] ?? 'info',
    DATABASE_URL: databaseUrl,
    ...kafkaCredentialsOf(spec.name, stack),
    // The registry's read-only instance: a service looks schemas up, only provisioning registers them.
    SCHEMA_REGISTRY_URL: stack['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8082/apis/ccompat/v7',
    // npm test and the tests run the system under their own namespace (testKafkaNamespace); npm start under the release's names.
    KAFKA_NAMESPACE: process.env['KAFKA_NAMESPACE'] ?? '',
    JWT_PUBLIC_KEYS: keys.publicKey,
    JWT_ISSUER: 'eventflow-user-service',
    JWT_AUDIENCE: 'eventflow',
    HTTP_BODY_LIMIT_BYTES: '16384',
    // Swagger UI under <gateway>/<prefix>/docs for whoever runs the system locally (off in the chart).
    SWAGGER_UI_ENABLED: 'true',
    // The local gateway is the proxy in front of the services; tools on this machine that call
    // without X-Forwarded-For (tests, bench, newman) are not rate limited, clients named by it are.
    TRUSTED_PROXIES: '127.0.0.1,::1',
    RATE_LIMIT_EXEMPT_ADDRESSES: '127.0.0.1,::1',
    RATE_LIMIT_USER_PER_MINUTE: '600',
    SHUTDOWN_TIMEOUT_MS: '15000',
    ...spec.extraEnv,
  };
  if (spec.name !== 'notification-service') {
    env['OUTBOX_POLL_INTERVAL_MS'] = '200';
    env['OUTBOX_BATCH_SIZE'] = '100';
  }
  if (spec.name !== 'user-service') env['CONSUMER_BATCH_SIZE'] = '50';
  if (spec.name === 'user-service') {
    env['JWT_PRIVATE_KEY'] = keys.privateKey;
    env['ACCESS_TOKEN_TTL_SECONDS'] = '3600';
    env['LOGIN_ATTEMPTS_PER_IP'] = '10';
    env['LOGIN_FAILURES_PER_EMAIL'] = '30';
    env['REGISTRATIONS_PER_IP'] = '10';
    env['ARGON2_MAX_CONCURRENT'] = '2';
    env['ARGON2_MAX_QUEUE'] = '8';
  }
  if (spec.name === 'billing-service') env['ACCOUNT_WAIT_MS'] = '30000';
  if (spec.name === 'notification-service') env['RECIPIENT_WAIT_MS'] = '30000';
  if (['billing-service', 'order-service', 'notification-service'].includes(spec.name)) env['PREFER_WAIT_MAX_SECONDS'] = '30';
  return env;
}

/** Generates the Prisma clients and event types (cached by Nx). */
export function generateCode(): void {
  execFileSync('npx', ['nx', 'run-many', '-t', 'generate', '--outputStyle=static'], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
}

/** The migrate command's environment for one service: the migration role, never the runtime one. */
export function migrationEnv(spec: ServiceSpec, stack: Record<string, string>): { MIGRATION_DATABASE_URL: string } {
  const url = stack[spec.migrationDatabaseUrlVar];
  if (!url) throw new Error(`the stack did not provide ${spec.migrationDatabaseUrlVar}`);
  return { MIGRATION_DATABASE_URL: url };
}

/**
 * KAFKA_BROKERS and the SASL settings of one of the local broker's principals (each service has its
 * own; `stack env` prints their passwords as KAFKA_PASSWORD_<PRINCIPAL>). A stack whose broker
 * takes no SASL prints none, and the client connects unauthenticated.
 */
export function kafkaCredentialsOf(principal: string, stack: Record<string, string>): Record<string, string> {
  const password = stack[`KAFKA_PASSWORD_${principal.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`];
  return {
    KAFKA_BROKERS: stack['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    ...(password ? { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: principal, KAFKA_SASL_PASSWORD: password } : {}),
  };
}

/**
 * The Kafka settings of the repository's tools (events inspect/tail/replay/console, chaos, bench):
 * the environment's KAFKA_SASL_* when set (e.g. after `eval "$(scripts/stack/stack env)"`, which
 * names the operators' principal, ops), else the local stack's ops password from .stack/secrets.
 */
export function toolKafkaSettings(env: Record<string, string | undefined> = process.env): { KAFKA_BROKERS: string } & Record<string, string> {
  const brokers = env['KAFKA_BROKERS'] ?? '127.0.0.1:9092';
  if (env['KAFKA_SASL_MECHANISM'] !== undefined) {
    const sasl = { KAFKA_SASL_MECHANISM: env['KAFKA_SASL_MECHANISM'], KAFKA_SASL_USERNAME: env['KAFKA_SASL_USERNAME'], KAFKA_SASL_PASSWORD: env['KAFKA_SASL_PASSWORD'] };
    return { KAFKA_BROKERS: brokers, ...Object.fromEntries(Object.entries(sasl).filter((entry): entry is [string, string] => entry[1] !== undefined)) };
  }
  const file = join(stateDir, 'secrets', 'kafka', 'ops');
  const password = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  return password ? { KAFKA_BROKERS: brokers, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'ops', KAFKA_SASL_PASSWORD: password } : { KAFKA_BROKERS: brokers };
}

/**
 * The provisioning command's environment: the `provision` principal (the only one that may create
 * topics and write ACLs), the registry's writable instance, and ACLs also for the `test.`
 * namespace, which npm test and the system tests run the services under.
 */
export function provisioningEnv(stack: Record<string, string>): Record<string, string> {
  return {
    ...kafkaCredentialsOf('provision', stack),
    SCHEMA_REGISTRY_URL: stack['SCHEMA_REGISTRY_WRITE_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    KAFKA_ACL_EXTRA_NAMESPACES: 'test.',
    KAFKA_ACL_TEST_PRINCIPAL: 'true',
  };
}

/** Applies every service's committed migrations (as its migration role), then creates topics and registers schemas. */
export async function prepareInfrastructure(stack: Record<string, string>): Promise<void> {
  const { migrateDatabase } = await import('@eventflow/platform/db');
  for (const spec of services) {
    const { applied } = await migrateDatabase({
      databaseUrl: migrationEnv(spec, stack).MIGRATION_DATABASE_URL,
      migrationsDir: join(serviceDir(spec.name), 'prisma', 'migrations'),
    });
    console.log(`${spec.name}: ${applied.length === 0 ? 'database up to date' : `applied ${applied.join(', ')}`}`);
  }
  const { provision } = await import('@eventflow/events');
  const report = await provision({ ...process.env, ...stack, ...provisioningEnv(stack) });
  console.log(
    `topics: ${report.topics.created.length} created, ${report.topics.configured.length} up to date; ` +
      `schemas registered: ${Object.keys(report.subjects).length}`,
  );
}

export interface RunningService {
  /** The service's spec; `port` is this instance's port. */
  spec: ServiceSpec;
  /** The service name, or `<service>-<instance>` for a named instance: names its pid and log files. */
  id: string;
  pid: number;
  logFile: string;
}

const pidFile = (id: string): string => join(stateDir, 'run', `${id}.pid`);
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The production image's runtime environment (the Dockerfile's runtime-stage ENV: the V8 heap
 * bounds in NODE_OPTIONS, glibc's MALLOC_ARENA_MAX), without NODE_ENV, which startService sets per
 * mode. Read from the Dockerfile so that npm start, the tests and the bench run the services as
 * the container does.
 */
export function imageRuntimeEnv(): Record<string, string> {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const [, args = ''] of runtimeStage.matchAll(/^ENV\s+(.*)$/gm)) {
    for (const [, key = '', quoted, plain] of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|([^\s"]*))/g)) env[key] = quoted ?? plain ?? '';
  }
  delete env['NODE_ENV'];
  return env;
}

export interface StartOptions {
  /**
   * 'source' (default): the TypeScript sources through the tsx loader, as in development.
   * 'build': the esbuild bundle apps/<name>/dist/main.js with NODE_ENV=production, as the
   * container image runs it (the benchmark measures this; `nx run-many -t build` makes it).
   */
  mode?: 'source' | 'build';
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /**
   * A named instance (replica) of the service on its own port, with its own pid and log file
   * (.stack/run/<service>-<name>.pid, .stack/logs/<service>-<name>.log); same consumer group
   * and database as every other instance. Without it: the one instance of `npm start`.
   */
  instance?: { name: string; port: number };
}

/**
 * Starts one service as a process (tsx from source, or its production build) logging to
 * .stack/logs/<name>.log, with its pid in .stack/run, so any process (a test worker, Ctrl-C
 * handler) can stop or restart it.
 */
export function startService(baseSpec: ServiceSpec, baseEnv: Record<string, string>, options: StartOptions = {}): RunningService {
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  mkdirSync(join(stateDir, 'run'), { recursive: true });
  const spec = options.instance ? { ...baseSpec, port: options.instance.port } : baseSpec;
  const env = options.instance ? { ...baseEnv, PORT: String(options.instance.port) } : baseEnv;
  const id = options.instance ? `${spec.name}-${options.instance.name}` : spec.name;
  const logFile = join(stateDir, 'logs', `${id}.log`);
  const out = openSync(logFile, 'a');
  const build = options.mode === 'build';
  if (build && !existsSync(join(serviceDir(spec.name), 'dist', 'main.js'))) {
    throw new Error(`${spec.name} has no production build (apps/${spec.name}/dist/main.js): run npx nx run-many -t build`);
  }
  const entry = build ? ['dist/main.js'] : ['--import', 'tsx', 'src/main.ts'];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...entry], {
    cwd: serviceDir(spec.name),
    env: { PATH: process.env['PATH'] ?? '', ...imageRuntimeEnv(), NODE_ENV: build ? 'production' : 'development', ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${spec.name}`);
  child.unref();
  writeFileSync(pidFile(id), String(child.pid));
  return { spec, id, pid: child.pid, logFile };
}

const logTail = (file: string, lines = 30): string =>
  existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '';

/** Polls /health/ready until it answers 200, failing with the log's tail after the timeout. */
export async function waitUntilReady(service: RunningService, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline && isAlive(service.pid)) {
    try {
      const response = await fetch(`http://127.0.0.1:${service.spec.port}/health/ready`);
      if (response.ok) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(
    `${service.spec.name} not ready after ${timeoutMs} ms (${isAlive(service.pid) ? 'still running' : 'exited'}; last readiness answer: ${last}).\n` +
      `Last lines of ${service.logFile}:\n${logTail(service.logFile)}`,
  );
}

/**
 * Sends SIGTERM to the service (or named instance, `<service>-<instance>`) named in .stack/run
 * and waits until it has exited (SIGKILL after the timeout).
 */
export async function stopService(name: ServiceSpec['name'] | (string & {}), timeoutMs = 20_000): Promise<void> {
  if (!existsSync(pidFile(name))) return;
  const pid = Number(readFileSync(pidFile(name), 'utf8'));
  if (isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile(name), { force: true });
}

export const serviceSpec = (name: ServiceSpec['name']): ServiceSpec => {
  const spec = services.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown service ${name}`);
  return spec;
};

/** Starts a service with its standard environment and waits until it is ready. */
export async function startReadyService(name: ServiceSpec['name']): Promise<RunningService> {
  const spec = serviceSpec(name);
  const service = startService(spec, serviceEnv(spec, stackEnv(), ensureJwtKeys()));
  await waitUntilReady(service);
  return service;
}

/** The local HTTP entry point (gateway.ts): routes by path prefix exactly as the Kubernetes ingress does. */
export async function startGateway(port = gatewayPort): Promise<FastifyInstance> {
  return createGateway({
    port,
    routes: services.map((spec) => ({ name: spec.name, prefixes: spec.prefixes, upstream: `http://127.0.0.1:${spec.port}` })),
    logFile: join(stateDir, 'logs', 'gateway.log'),
  });
}

export interface RunningSystem {
  baseUrl: string;
  services: RunningService[];
  gateway: FastifyInstance;
  stop: () => Promise<void>;
}

/** Infrastructure up, code generated, databases migrated, topics provisioned, services and gateway running. */
export async function startSystem(options: { generate?: boolean } = {}): Promise<RunningSystem> {
  const stack = stackUp();
  if (options.generate !== false) generateCode();
  await prepareInfrastructure(stack);
  const keys = ensureJwtKeys();
  const running = services.map((spec) => startService(spec, serviceEnv(spec, stack, keys)));
  const stopAll = () => Promise.all(services.map((spec) => stopService(spec.name)));
  try {
    await Promise.all(running.map((service) => waitUntilReady(service)));
  } catch (error) {
    await stopAll();
    throw error;
  }
  const gateway = await startGateway();
  return {
    baseUrl: `http://127.0.0.1:${gatewayPort}`,
    services: running,
    gateway,
    stop: async () => {
      await gateway.close();
      await stopAll();
    },
  };
}
