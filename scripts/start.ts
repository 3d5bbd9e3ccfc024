/**
 * `npm start`: the whole system on this machine. Infrastructure (Kafka, schema registry,
 * PostgreSQL) from scripts/stack, the four services, and the HTTP entry point on :8080 that
 * routes like the Kubernetes ingress. Ctrl-C stops what this command started.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { gatewayPort, services, startSystem, repoRoot } from '@eventflow/system-harness';

function missingPrerequisites(): string[] {
  const problems: string[] = [];
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  // `npm start` runs this under Node 24 already (scripts/node/run.mjs); this catches a direct `tsx scripts/start.ts`.
  if (major < 24 || (major === 24 && minor < 11)) problems.push(`Node.js 24.11 or newer (found ${process.versions.node}): npm start, or PATH="$(bash scripts/node/ensure-node):$PATH"`);
  const has = (command: string, args: string[]) => spawnSync(command, args, { stdio: 'ignore' }).status === 0;
  if (!has('java', ['-version'])) problems.push('a Java runtime, 17 or newer, for Kafka (Debian: apt-get install openjdk-17-jre-headless)');
  if (!has('mvn', ['-v'])) problems.push('Apache Maven, which fetches Kafka from Maven Central (Debian: apt-get install maven)');
  if (!has('bash', ['--version'])) problems.push('bash');
  return problems;
}

const stackWasRunning = spawnSync('bash', ['scripts/stack/stack', 'status'], { cwd: repoRoot, stdio: 'ignore' }).status === 0;
const keepInfra = process.argv.includes('--keep-infra');

const problems = missingPrerequisites();
if (problems.length > 0) {
  console.error(`npm start needs:\n${problems.map((p) => `  - ${p}`).join('\n')}\nInstall them and run npm start again.`);
  process.exit(1);
}

const startedAt = Date.now();
let system;
try {
  // --no-generate: the code is generated already (npm test's static step).
  system = await startSystem({ generate: !process.argv.includes('--no-generate') });
} catch (error) {
  console.error(`\nnpm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

console.log(`
eventflow is up (${((Date.now() - startedAt) / 1000).toFixed(1)} s).

  API entry point   http://127.0.0.1:${gatewayPort}   (${services.flatMap((s) => s.prefixes).join(', ')})
${services.map((s) => `  ${s.name.padEnd(20)} http://127.0.0.1:${s.port}   docs: http://127.0.0.1:${gatewayPort}${s.prefixes[0]}/docs`).join('\n')}
  Kafka             127.0.0.1:9092
  Schema registry   http://127.0.0.1:8081/apis/ccompat/v7
  PostgreSQL        127.0.0.1:5432
  Logs              .stack/logs/

  Acceptance tests: npm run newman -- --env-var baseUrl=http://127.0.0.1:${gatewayPort}
  Ctrl-C stops the services${stackWasRunning || keepInfra ? '' : ' and the infrastructure this command started'}.
`);

let stopping = false;
const stop = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  let failed = false;
  try {
    await system.stop();
  } catch (error) {
    failed = true;
    console.error(`stopping the services failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  try {
    if (!stackWasRunning && !keepInfra) execFileSync('bash', ['scripts/stack/stack', 'down'], { cwd: repoRoot, stdio: 'inherit' });
  } catch {
    failed = true;
  }
  process.exit(failed ? 1 : 0);
};
// Ctrl-C (SIGINT), a process manager or `kill` (SIGTERM) and a closed terminal (SIGHUP) all stop
// what this command started. SIGTERM reaches this process because package.json's script execs it:
// npm forwards the signal to its child, and a shell in between would not pass it on.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
// Keep the process alive until Ctrl-C; the services run as their own processes.
setInterval(() => {}, 60_000);
