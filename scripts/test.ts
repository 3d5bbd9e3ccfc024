/**
 * `npm test`: everything, in the order that fails fastest. Lint, typecheck, build, the Dockerfile's
 * lint, unit and integration tests (real Kafka, schema registry and PostgreSQL, started if not up),
 * the system tests, the Postman collection with newman against the running system, the production
 * image's runtime stage replayed and run, then the chart and documentation checks. Ends with one summary line and a non-zero exit on any failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { prepareInfrastructure, repoRoot, stackUp, testKafkaNamespace } from '@eventflow/system-harness';
import { launchNpmStart, stopNpmStartWithSigterm, type NpmStart } from './npm-start.js';

interface StepResult {
  name: string;
  ok: boolean;
  seconds: number;
  note?: string;
}

const results: StepResult[] = [];
// Every system this run starts (system tests, newman, fuzz, bench, chaos) runs under the test
// namespace: what it publishes never mixes with the topics and subjects `npm start` uses.
process.env['KAFKA_NAMESPACE'] ??= testKafkaNamespace;
const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', FORCE_COLOR: process.env['FORCE_COLOR'] ?? '0' };

function sh(command: string, args: string[]): boolean {
  return spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit', env }).status === 0;
}

async function step(name: string, run: () => boolean | Promise<boolean>, note?: () => string): Promise<boolean> {
  console.log(`\n━━ ${name}`);
  const started = Date.now();
  let ok = false;
  try {
    ok = await run();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
  }
  results.push({ name, ok, seconds: (Date.now() - started) / 1000, ...(note ? { note: note() } : {}) });
  return ok;
}

/** Like sh, but keeps this process's event loop running: the gateway serves from it meanwhile. */
function shAsync(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, stdio: 'inherit', env });
    child.on('exit', (code) => resolve(code === 0));
    child.on('error', () => resolve(false));
  });
}

const nx = (...args: string[]) => sh('npx', ['nx', 'run-many', '--outputStyle=static', ...args]);
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.some((o) => name.includes(o));

// Reports of earlier runs must not be counted again.
for (const dir of ['apps', 'libs']) {
  for (const project of readdirSync(join(repoRoot, dir))) rmSync(join(repoRoot, dir, project, '.vitest-report.json'), { force: true });
}

if (wanted('static')) {
  await step('generate code (Prisma clients, event types)', () => nx('-t', 'generate'));
  await step('lint', () => nx('-t', 'lint') && sh('npx', ['eslint', 'scripts']));
  await step('typecheck', () => nx('-t', 'typecheck') && sh('npx', ['tsc', '-p', 'scripts/tsconfig.json']));
  await step('build', () => nx('-t', 'build'));
  await step('Dockerfile lint (hadolint)', () => {
    const hadolint = spawnSync('bash', ['scripts/install-hadolint.sh'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).stdout.trim();
    return hadolint !== '' && sh(hadolint, ['Dockerfile']);
  });
}

// Infrastructure this run starts is stopped again at the end; a stack that was already up stays up,
// and a run of steps that need no stack (e.g. `npm test -- static` in a second checkout, whose
// `stack status` cannot see the first one's stack) never stops one.
const stackWasUp = spawnSync('bash', ['scripts/stack/stack', 'status'], { cwd: repoRoot, stdio: 'ignore' }).status === 0;
const stackNeeded = ['tests', 'newman', 'fuzz', 'start', 'production', 'bench', 'chaos'].some(wanted);

if (wanted('tests')) {
  await step('infrastructure up (Kafka, schema registry, PostgreSQL)', async () => {
    // Migrations, and the test namespace's topics and subjects, before any test publishes in it.
    await prepareInfrastructure(stackUp());
    return true;
  });
  // Never replayed from Nx's cache (which lives in ~/.nx, outside the clone): the integration and
  // system tests exercise the running Kafka, registry and PostgreSQL, which no task input captures.
  await step('unit, integration and system tests (vitest)', () =>
    nx('-t', 'test', '--parallel=1', '--skip-nx-cache', '--', '--reporter=default', '--reporter=json', '--outputFile.json=.vitest-report.json'),
  );
}

let newmanCounts = { passed: 0, failed: 0 };
if (wanted('newman') || wanted('fuzz') || wanted('start')) {
  // The system as `npm start` runs it, in its own process; the API steps use it while it runs, and
  // it is stopped at the end with SIGTERM to the npm process, as a process manager stops it.
  let started: NpmStart | undefined;
  await step('npm start (services and gateway up)', async () => {
    started = await launchNpmStart(env);
    return true;
  });
  if (started) {
    const system = started;
    if (wanted('newman')) {
      await step('Postman collection with newman against npm start\'s system', async () => {
        const report = join(repoRoot, '.stack', 'newman-report.json');
        rmSync(report, { force: true });
        const ok = await shAsync('npx', ['tsx', 'scripts/newman.ts', '--env-var', `baseUrl=${system.baseUrl}`, '--reporters', 'cli,json', '--reporter-json-export', report]);
        if (existsSync(report)) {
          const stats = JSON.parse(readFileSync(report, 'utf8')).run.stats.assertions as { total: number; failed: number };
          newmanCounts = { passed: stats.total - stats.failed, failed: stats.failed };
        }
        return ok;
      });
    }
    if (wanted('fuzz')) {
      // Every operation of docs/api/*.openapi.json with schemathesis, bounded (scripts/fuzz/fuzz.ts).
      const summary = join(repoRoot, '.stack', 'fuzz', 'summary.json');
      rmSync(summary, { force: true });
      await step(
        'fuzz every OpenAPI operation with schemathesis against npm start\'s system',
        () => shAsync('npx', ['tsx', 'scripts/fuzz/fuzz.ts', '--base-url', system.baseUrl]),
        () => {
          if (!existsSync(summary)) return 'no figures';
          const figures = JSON.parse(readFileSync(summary, 'utf8')) as { operations: number; requests: number; failures: number };
          return `${figures.operations} operations, ${figures.requests} requests, ${figures.failures} failures`;
        },
      );
    }
    await step('SIGTERM to npm start stops its services and gateway', async () => {
      const problems = await stopNpmStartWithSigterm(system);
      for (const problem of problems) console.error(problem);
      return problems.length === 0;
    });
  }
}

if (wanted('production')) {
  // The image's runtime stage replayed from the Dockerfile outside the checkout (production
  // install, dist/ bundles, migrations), then the migrate and provision commands and the four
  // services run from there under the pinned Node 24 as the image's user, until ready.
  await step('production image: runtime stage replayed, migrate, provision, services ready (scripts/production-stage.ts)', () =>
    sh('npx', ['tsx', 'scripts/production-stage.ts']),
  );
}

if (wanted('bench')) {
  // Keeps the benchmark from rotting: a few seconds of load on the production builds; it asserts
  // that every accepted order settles, never a speed (figures come from `npm run bench`).
  await step('benchmark smoke (npm run bench -- --smoke)', () => sh('npx', ['tsx', 'scripts/bench/bench.ts', '--smoke']));
}

if (wanted('chaos')) {
  // Faults under load, then the money and e-mail invariants on the durable state: the short profile
  // (at least 1,000 orders, one fault of every kind, a few minutes); docs/fault-injection.md.
  await step('fault injection, short profile (npm run chaos -- --profile short)', () =>
    sh('npx', ['tsx', 'scripts/chaos/chaos.ts', '--profile', 'short', '--no-generate']),
  );
}

if (wanted('docs')) {
  await step('OpenAPI documents match the route schemas', () => sh('npx', ['tsx', 'scripts/openapi.ts', '--check']));
}
if (wanted('chart') && existsSync(join(repoRoot, 'scripts', 'check-chart.ts'))) {
  await step('Helm chart checks', () => sh('npx', ['tsx', 'scripts/check-chart.ts']));
}
if (wanted('docs') && existsSync(join(repoRoot, 'scripts', 'check-docs.ts'))) {
  await step('documentation checks', () => sh('npx', ['tsx', 'scripts/check-docs.ts']));
}

if (!stackWasUp && stackNeeded) sh('bash', ['scripts/stack/stack', 'down']);

let passed = newmanCounts.passed;
let failed = newmanCounts.failed;
for (const dir of ['apps', 'libs']) {
  for (const project of readdirSync(join(repoRoot, dir))) {
    const file = join(repoRoot, dir, project, '.vitest-report.json');
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as { numPassedTests: number; numFailedTests: number };
    passed += report.numPassedTests;
    failed += report.numFailedTests;
  }
}

console.log('\n━━ summary');
for (const r of results) console.log(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name} (${r.seconds.toFixed(1)} s)${r.note ? `: ${r.note}` : ''}`);
const failedSteps = results.filter((r) => !r.ok).length;
console.log(`steps: ${results.length - failedSteps} passed, ${failedSteps} failed`);
// Vitest tests plus newman assertions, as the last line.
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(failedSteps === 0 && failed === 0 ? 0 : 1);
