/**
 * `npm run fuzz -- [--base-url URL] [--max-examples N] [--documents DIR]`: schemathesis (PyPI, installed into a
 * cached venv by install-schemathesis.sh) generates requests for every operation of the OpenAPI
 * documents in docs/api, valid and invalid, and checks every answer: no 5xx, status codes, media
 * types, headers and bodies as documented. It calls as a registered, logged-in fuzz user.
 * Without --base-url it starts the system (as npm start does) and stops it afterwards; npm test
 * passes the system it already runs. Bounded: N examples per operation and phase, a request
 * timeout, and a wall-clock limit per document. Prints the figures and writes them to
 * .stack/fuzz/summary.json.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { repoRoot, startSystem, stateDir, type RunningSystem } from '@eventflow/system-harness';

const argument = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const maxExamples = Number(argument('max-examples') ?? 20);
const seed = argument('seed') ?? '20261125';
/** Per document; a run normally takes well under it. */
const timeLimitMs = Number(argument('time-limit-seconds') ?? 150) * 1000;
/** The OpenAPI documents to fuzz (default docs/api), e.g. an older set to see what the checks catch. */
const documentsDir = argument('documents') ?? join(repoRoot, 'docs', 'api');

/** What schemathesis checks on every answer (`all` would add checks about a stateful API's semantics). */
const checks = ['not_a_server_error', 'status_code_conformance', 'content_type_conformance', 'response_headers_conformance', 'response_schema_conformance'];

export interface FuzzFigures {
  document: string;
  operations: number;
  requests: number;
  failures: number;
  seconds: number;
  ok: boolean;
}

async function fuzzUserToken(baseUrl: string): Promise<string> {
  const email = `fuzz-${randomUUID()}@example.com`;
  const password = `fuzz ${randomUUID()}`;
  const post = (path: string, body: unknown) =>
    fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const created = await post('/users', { email, password, name: 'Fuzz' });
  if (created.status !== 201) throw new Error(`registering the fuzz user answered ${created.status}: ${await created.text()}`);
  const login = await post('/auth/login', { email, password });
  if (login.status !== 200) throw new Error(`logging in the fuzz user answered ${login.status}: ${await login.text()}`);
  return ((await login.json()) as { accessToken: string }).accessToken;
}

/**
 * Counts from schemathesis' ndjson event stream: operations tested, requests sent, and distinct
 * failures (operation, check, failure title; a scenario that errored counts as one).
 */
function figuresOf(ndjson: string): { operations: number; requests: number; failures: number; findings: string[] } {
  const operations = new Set<string>();
  let requests = 0;
  const findings = new Set<string>();
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    const scenario = (JSON.parse(line) as { ScenarioFinished?: { label?: string; status?: string; recorder?: Recorder } }).ScenarioFinished;
    if (!scenario) continue;
    const label = scenario.recorder?.label ?? scenario.label ?? '?';
    if (String(scenario.status).toLowerCase() !== 'skip') operations.add(label);
    requests += Object.keys(scenario.recorder?.interactions ?? {}).length;
    if (String(scenario.status).toLowerCase() === 'error') findings.add(`${label}: error`);
    for (const results of Object.values(scenario.recorder?.checks ?? {})) {
      for (const result of results) {
        if (String(result.status).toLowerCase() === 'failure') findings.add(`${label}: ${result.name}: ${result.failure_info?.failure?.title ?? ''}`);
      }
    }
  }
  return { operations: operations.size, requests, failures: findings.size, findings: [...findings].sort() };
}

interface Recorder {
  label?: string;
  interactions?: Record<string, unknown>;
  checks?: Record<string, Array<{ name: string; status: string; failure_info?: { failure?: { title?: string } } | null }>>;
}

async function fuzzDocument(st: string, document: string, baseUrl: string, token: string): Promise<FuzzFigures> {
  const name = document.replace(/\.openapi\.json$/, '');
  const reportDir = join(stateDir, 'fuzz', name);
  rmSync(reportDir, { recursive: true, force: true });
  mkdirSync(reportDir, { recursive: true });
  const args = [
    '--no-color',
    'run', join(documentsDir, document),
    '--url', baseUrl,
    '--header', `Authorization: Bearer ${token}`,
    // `Prefer: wait=N` holds an answer up to 30 s for an order that never settles (every generated
    // order id): fixed at one second, so that the run's length is bounded by the examples.
    '--header', 'Prefer: wait=1',
    '--checks', checks.join(','),
    '--phases', 'examples,coverage,fuzzing',
    '--max-examples', String(maxExamples),
    '--seed', seed,
    // One worker: two threads hit a CPython 3.11 race in schemathesis' coverage phase ("AST
    // constructor recursion depth mismatch"), and the services share two cores with it anyway.
    '--workers', '1',
    '--generation-database', 'none',
    '--request-timeout', '15',
    '--continue-on-failure',
    '--suppress-health-check', 'all',
    '--report', 'ndjson,junit',
    '--report-dir', reportDir,
    '--output-truncate', 'false',
  ];
  console.log(`\n${st} ${args.join(' ').replace(token, '<token>')}`);
  const started = Date.now();
  const code = await new Promise<number | null>((resolve) => {
    // Run in the report directory: schemathesis and Hypothesis keep working files in their cwd.
    const child = spawn(st, args, { cwd: reportDir, stdio: 'inherit', env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' } });
    const timer = setTimeout(() => {
      console.error(`fuzz: ${document} still running after ${timeLimitMs / 1000} s; stopping it`);
      child.kill('SIGTERM');
    }, timeLimitMs);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve(status);
    });
    child.on('error', () => resolve(null));
  });
  const ndjsonFile = readdirSync(reportDir).find((f) => f.endsWith('.ndjson'));
  const { findings, ...figures } = ndjsonFile ? figuresOf(readFileSync(join(reportDir, ndjsonFile), 'utf8')) : { operations: 0, requests: 0, failures: 0, findings: [] };
  for (const finding of findings) console.log(`  finding: ${finding}`);
  return { document, ...figures, seconds: (Date.now() - started) / 1000, ok: code === 0 && figures.operations > 0 };
}

export async function fuzz(baseUrl: string): Promise<FuzzFigures[]> {
  const st = execFileSync('bash', [join(repoRoot, 'scripts', 'fuzz', 'install-schemathesis.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const token = await fuzzUserToken(baseUrl);
  const documents = readdirSync(documentsDir).filter((f) => f.endsWith('.openapi.json')).sort();
  const results: FuzzFigures[] = [];
  for (const document of documents) results.push(await fuzzDocument(st, document, baseUrl, token));
  return results;
}

const given = argument('base-url');
let system: RunningSystem | undefined;
let exitCode = 1;
try {
  if (!given) system = await startSystem({ generate: false });
  const results = await fuzz(given ?? system!.baseUrl);
  const total = results.reduce((sum, r) => ({ operations: sum.operations + r.operations, requests: sum.requests + r.requests, failures: sum.failures + r.failures }), { operations: 0, requests: 0, failures: 0 });
  console.log('\nfuzz figures:');
  for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.document}: ${r.operations} operations, ${r.requests} requests, ${r.failures} failures (${r.seconds.toFixed(1)} s)`);
  console.log(`fuzz: ${total.operations} operations, ${total.requests} requests, ${total.failures} failures`);
  mkdirSync(join(stateDir, 'fuzz'), { recursive: true });
  writeFileSync(join(stateDir, 'fuzz', 'summary.json'), `${JSON.stringify({ ...total, documents: results }, null, 2)}\n`);
  exitCode = results.every((r) => r.ok) && total.failures === 0 ? 0 : 1;
} catch (error) {
  console.error(`fuzz: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await system?.stop();
}
if (existsSync(join(stateDir, 'fuzz'))) console.log(`reports: ${join(stateDir, 'fuzz')}/<service>/`);
process.exit(exitCode);
