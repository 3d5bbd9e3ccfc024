/**
 * Runs one of the project's TypeScript entry points (through tsx) under Node 24 LTS:
 *   node scripts/node/run.mjs scripts/test.ts [args...]     (what `npm test` and `npm start` run)
 * On a Node older than the project's minimum (NODE_MIN in scripts/node/ensure-node, = `engines`)
 * it gets the pinned Node 24 from scripts/node/ensure-node (installed into ~/.cache/eventflow on
 * first use) and runs the entry point with it, that Node first on PATH, so every child (npx, nx,
 * vitest, the services) runs on it too. Plain JavaScript, so that it runs on any Node.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ensureNode = join(here, 'ensure-node');
const minimum = /^NODE_MIN=(\S+)/m.exec(readFileSync(ensureNode, 'utf8'))?.[1];
if (!minimum) throw new Error(`no NODE_MIN in ${ensureNode}`);

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/node/run.mjs <entry.ts> [args...]');
  process.exit(2);
}

const atLeast = (version, wanted) => {
  const a = version.split('.').map(Number);
  const b = wanted.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

let node = process.execPath;
let env = process.env;
if (!atLeast(process.versions.node, minimum)) {
  let bin;
  try {
    bin = execFileSync('bash', [ensureNode, '--pinned'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    console.error(
      `This project needs Node.js ${minimum} or newer (found ${process.versions.node}), and installing it failed (see above).\n` +
        `Run: bash scripts/node/ensure-node   (or install Node.js 24 LTS from https://nodejs.org)`,
    );
    process.exit(1);
  }
  node = join(bin, 'node');
  env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  console.error(`(Node ${process.versions.node} is older than ${minimum}: running ${entry} under the Node 24 in ${bin}.)`);
}

const child = spawn(node, ['--import', 'tsx', entry, ...args], { stdio: 'inherit', env });
// npm and process managers signal this process only: pass signals on, and exit as the child did.
const relay = (signal) => child.kill(signal);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, relay);
child.on('error', (error) => {
  console.error(`could not run ${node}: ${error.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeListener(s, relay);
    process.kill(process.pid, signal);
  } else process.exit(code ?? 1);
});
