/**
 * The production image really runs, proven without a container engine: replays the Dockerfile's
 * runtime stage in a scratch directory outside the checkout, then runs what the Helm chart runs
 * from the image (each service's migrate command, the provisioning command, the four services)
 * from there, under the pinned Node 24 and as the image's user, against the local stack, and
 * checks that every service becomes ready and shuts down cleanly.
 *
 * The steps are read from the Dockerfile itself, so the proof cannot drift from the image: every
 * instruction of the runtime stage is replayed or explicitly accounted for, and an instruction or
 * command this script does not know fails the run rather than being skipped. The build stage is
 * this checkout (installed by npm ci); its build command is run here (cached by Nx).
 *
 * Usage: npx tsx scripts/production-stage.ts [--keep]   (--keep leaves the scratch directory)
 * Run by `npm test` (step "production image"); it starts the services, so not beside npm start.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import {
  ensureJwtKeys,
  migrationEnv,
  provisioningEnv,
  repoRoot,
  serviceEnv,
  services,
  stackEnv,
  stackUp,
  stateDir,
  type ServiceSpec,
} from '@eventflow/system-harness';

const keep = process.argv.includes('--keep');
const dockerfile = join(repoRoot, 'Dockerfile');

// ---------------------------------------------------------------------------------- the Dockerfile
interface Instruction {
  line: number;
  keyword: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

/** Instructions by stage, with line continuations joined and comments dropped. */
export function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let logical = lines[i] ?? '';
    while (/\\\s*$/.test(logical) && i + 1 < lines.length) logical = logical.replace(/\\\s*$/, ' ') + (lines[++i] ?? '');
    const trimmed = logical.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^([A-Za-z]+)\s+(.*)$/.exec(trimmed);
    if (!match?.[1] || match[2] === undefined) throw new Error(`Dockerfile:${start}: cannot parse "${trimmed}"`);
    const keyword = match[1].toUpperCase();
    const rest = match[2].trim();
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from?.[1]) throw new Error(`Dockerfile:${start}: cannot parse FROM ${rest}`);
      stages.push({ name: from[2] ?? String(stages.length), from: from[1], instructions: [] });
    } else if (keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=', 2);
      args.set(name ?? '', value);
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile:${start}: ${keyword} before the first FROM`);
      stage.instructions.push({ line: start, keyword, args: rest });
    }
  }
  return { args, stages };
}

/** `COPY [--from=stage] src... dest` */
function parseCopy(instruction: Instruction): { from?: string; sources: string[]; dest: string } {
  const words = instruction.args.split(/\s+/);
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() ?? '';
    const fromFlag = /^--from=(.+)$/.exec(flag);
    if (fromFlag?.[1]) from = fromFlag[1];
    else throw new Error(`Dockerfile:${instruction.line}: COPY ${flag} is not replayed by scripts/production-stage.ts`);
  }
  const dest = words.pop();
  if (!dest || words.length === 0 || words[0]?.startsWith('[')) throw new Error(`Dockerfile:${instruction.line}: cannot parse COPY ${instruction.args}`);
  return { ...(from ? { from } : {}), sources: words, dest };
}

/**
 * The shell commands of a RUN (joined by &&) and what the replay does with each: run it, or skip it
 * with a reason. Anything else is an error, so a new command in the Dockerfile is noticed here.
 */
function planRun(instruction: Instruction, stage: 'build' | 'runtime'): Array<{ command: string; action: 'run' | 'skip'; why?: string }> {
  return instruction.args.split('&&').map((part) => {
    const command = part.trim();
    if (stage === 'runtime' && /^npm ci( |$)/.test(command)) return { command, action: 'run' as const };
    if (stage === 'runtime' && command === 'npm cache clean --force')
      return { command, action: 'skip' as const, why: 'only makes the image smaller; here it would empty the shared npm cache' };
    if (stage === 'build' && /^npm ci( |$)/.test(command))
      return { command, action: 'skip' as const, why: 'the checkout is the build stage, installed by npm ci before npm test' };
    if (stage === 'build' && /^(NX_DAEMON=false )?npx nx run-many -t build /.test(command)) return { command, action: 'run' as const };
    throw new Error(`Dockerfile:${instruction.line}: scripts/production-stage.ts does not know how to replay "${command}" (${stage} stage); teach it`);
  });
}

// ---------------------------------------------------------------------------------- helpers
const pinnedNodeBin = (): string =>
  execFileSync('bash', [join(repoRoot, 'scripts', 'node', 'ensure-node'), '--pinned'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
const pinnedNodeVersion = (): string => {
  const version = /^NODE_VERSION=(\S+)/m.exec(readFileSync(join(repoRoot, 'scripts', 'node', 'ensure-node'), 'utf8'))?.[1];
  if (!version) throw new Error('scripts/node/ensure-node names no NODE_VERSION');
  return version;
};

function log(message: string): void {
  console.log(`production-stage: ${message}`);
}

/** Docker's COPY: a directory's contents into dest; files into dest/ when dest ends with / or there are several. */
function dockerCopy(sources: string[], contextDir: string, dest: string, workdir: string, root: string): void {
  const target = join(root, isAbsolute(dest) ? dest : join(workdir, dest));
  const intoDirectory = dest.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    const from = join(contextDir, source);
    if (!existsSync(from)) throw new Error(`COPY source ${source} does not exist (${from}); run the build first`);
    if (statSync(from).isDirectory()) {
      cpSync(from, target, { recursive: true });
    } else {
      const to = intoDirectory ? join(target, source.split('/').at(-1) ?? source) : target;
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
    }
  }
}

interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logFile: string;
}

// ---------------------------------------------------------------------------------- the replay
async function main(): Promise<void> {
  const started = Date.now();
  const { args, stages } = parseDockerfile(readFileSync(dockerfile, 'utf8'));
  const build = stages.find((s) => s.name === 'build');
  const runtime = stages.at(-1);
  if (!build || !runtime || runtime === build) throw new Error('the Dockerfile has no build stage followed by a runtime stage');

  // The base image's Node is the Node this replay runs: the pinned one of scripts/node/ensure-node.
  const image = runtime.from.replace(/^\$\{?(\w+)\}?$/, (_, name: string) => args.get(name) ?? '');
  const imageNode = /^node:(\d+\.\d+\.\d+)-/.exec(image)?.[1];
  const nodeVersion = pinnedNodeVersion();
  if (imageNode !== nodeVersion) {
    throw new Error(`the runtime stage's base image is ${image || runtime.from}, the pinned Node (scripts/node/ensure-node) is ${nodeVersion}: keep them equal`);
  }
  const nodeBin = pinnedNodeBin();

  // Build stage: this checkout. Only its build command is run.
  for (const instruction of build.instructions.filter((i) => i.keyword === 'RUN')) {
    for (const { command, action, why } of planRun(instruction, 'build')) {
      if (action === 'skip') {
        log(`build stage: skip "${command}": ${why}`);
        continue;
      }
      log(`build stage: ${command}`);
      const result = spawnSync('sh', ['-c', command], { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, PATH: `${nodeBin}:${process.env['PATH'] ?? ''}` } });
      if (result.status !== 0) throw new Error(`build stage: "${command}" failed`);
    }
  }

  // Runtime stage, in a scratch root outside the checkout: Node's module resolution must find
  // only what the production install put there, never the checkout's node_modules above it.
  const root = mkdtempSync(join(tmpdir(), 'eventflow-production-stage-'));
  chmodSync(root, 0o755);
  for (let dir = root; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dirname(dir), 'node_modules'))) throw new Error(`${dirname(dir)}/node_modules exists: the replay would not be isolated`);
  }
  // The image's node is /usr/local/bin/node; a copy here is reachable by the image's user.
  mkdirSync(join(root, 'usr', 'local', 'bin'), { recursive: true });
  copyFileSync(join(nodeBin, 'node'), join(root, 'usr', 'local', 'bin', 'node'));
  chmodSync(join(root, 'usr', 'local', 'bin', 'node'), 0o755);
  const node = join(root, 'usr', 'local', 'bin', 'node');

  let workdir = '/';
  let user: { uid: number; gid: number } | undefined;
  let cmd: string[] = [];
  const imageEnv: Record<string, string> = {};
  const stageContexts = new Map([['build', repoRoot]]);
  for (const instruction of runtime.instructions) {
    switch (instruction.keyword) {
      case 'ENV': {
        // KEY=value or KEY="value with spaces" (NODE_OPTIONS), several per instruction.
        const rest = instruction.args.replace(/([A-Za-z_][A-Za-z0-9_]*)=(?:"([^"]*)"|([^\s"]*))(\s+|$)/g, (_, key: string, quoted?: string, plain?: string) => {
          imageEnv[key] = quoted ?? plain ?? '';
          return '';
        });
        if (rest.trim() !== '') throw new Error(`Dockerfile:${instruction.line}: ENV ${instruction.args}: use KEY=value or KEY="value"`);
        break;
      }
      case 'WORKDIR':
        workdir = isAbsolute(instruction.args) ? instruction.args : join(workdir, instruction.args);
        mkdirSync(join(root, workdir), { recursive: true });
        break;
      case 'COPY': {
        const copy = parseCopy(instruction);
        // --from=build copies from the build stage's filesystem: its WORKDIR /src is this checkout.
        const buildWorkdir = build.instructions.find((i) => i.keyword === 'WORKDIR')?.args ?? '/';
        const context = copy.from ? stageContexts.get(copy.from) : repoRoot;
        if (!context) throw new Error(`Dockerfile:${instruction.line}: COPY --from=${copy.from}: unknown stage`);
        const sources = copy.from ? copy.sources.map((s) => relative(buildWorkdir, s)) : copy.sources;
        if (sources.some((s) => s.startsWith('..'))) throw new Error(`Dockerfile:${instruction.line}: COPY from outside the build stage's ${buildWorkdir}`);
        dockerCopy(sources, context, copy.dest, workdir, root);
        break;
      }
      case 'RUN':
        for (const { command, action, why } of planRun(instruction, 'runtime')) {
          if (action === 'skip') {
            log(`runtime stage: skip "${command}": ${why}`);
            continue;
          }
          log(`runtime stage: ${command}`);
          const runStarted = Date.now();
          const result = spawnSync('sh', ['-c', command], {
            cwd: join(root, workdir),
            stdio: 'inherit',
            env: { ...process.env, ...imageEnv, PATH: `${nodeBin}:${process.env['PATH'] ?? ''}` },
          });
          if (result.status !== 0) throw new Error(`runtime stage: "${command}" failed`);
          log(`runtime stage: done in ${((Date.now() - runStarted) / 1000).toFixed(1)} s`);
        }
        break;
      case 'USER': {
        const [uid, gid] = instruction.args.split(':').map(Number);
        if (uid === undefined || Number.isNaN(uid)) throw new Error(`Dockerfile:${instruction.line}: USER ${instruction.args}: use numeric uid:gid`);
        user = { uid, gid: gid ?? uid };
        break;
      }
      case 'CMD':
        cmd = JSON.parse(instruction.args) as string[];
        break;
      default:
        throw new Error(`Dockerfile:${instruction.line}: scripts/production-stage.ts does not replay ${instruction.keyword}; teach it`);
    }
  }
  if (!user || user.uid === 0) throw new Error('the runtime stage must end with USER <non-root uid>:<gid>');
  // What the image holds is readable by its user, and nothing else: the files stay root's, as in the image.
  execFileSync('chmod', ['-R', 'a+rX', root]);
  const app = join(root, workdir);

  // The commands the image is run with (the chart's initContainers and containers), from `app`.
  const entry = (spec: ServiceSpec) => `apps/${spec.name}/dist/main.js`;
  const commands = [...services.map(entry), ...services.map((s) => `apps/${s.name}/dist/cli/migrate.js`), 'libs/events/dist/provision.js'];
  for (const file of commands) if (!existsSync(join(app, file))) throw new Error(`the image has no ${file}`);
  if (cmd[0] !== 'node' || !commands.includes(cmd[1] ?? '')) throw new Error(`CMD ${JSON.stringify(cmd)} is not one of the image's commands`);

  // As the image's user when this runs as root (CI, here); otherwise as whoever runs it.
  const asUser = process.getuid?.() === 0 ? user : undefined;
  // What a container of the image starts with: the image's PATH, HOME=/ (Docker's and the
  // kubelet's choice for a uid without a passwd entry, like 10001), then the Dockerfile's ENV.
  const baseEnv = { PATH: `${dirname(node)}:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: '/', ...imageEnv };
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const launch = (name: string, file: string, env: Record<string, string>): Started => {
    const logFile = join(stateDir, 'logs', `production-stage-${name.replace(/\W+/g, '-')}.log`);
    const out = openSync(logFile, 'w');
    const child = spawn(node, [file], { cwd: app, env: { ...baseEnv, ...env }, stdio: ['ignore', out, out], ...(asUser ?? {}) });
    closeSync(out);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal }));
      child.on('error', () => resolve({ code: -1, signal: null }));
    });
    return { name, child, exited, logFile };
  };
  const tail = (file: string) => readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  const runToEnd = async (name: string, file: string, env: Record<string, string>, timeoutMs: number): Promise<void> => {
    const run = launch(name, file, env);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
    const { code, signal } = await run.exited;
    clearTimeout(timer);
    if (code !== 0) throw new Error(`${name} (node ${file}) ended with ${signal ?? `exit code ${code}`}; last lines of ${run.logFile}:\n${tail(run.logFile)}`);
    log(`${name}: ok (node ${file})`);
  };

  const running: Started[] = [];
  try {
    const stackIsUp = spawnSync('bash', ['scripts/stack/stack', 'status'], { cwd: repoRoot, stdio: 'ignore' }).status === 0;
    const stack = stackIsUp ? stackEnv() : stackUp();
    const keys = ensureJwtKeys();
    log(`running from ${app} as ${asUser ? `uid ${asUser.uid}:${asUser.gid}` : 'the current user'} under Node ${nodeVersion}`);
    for (const spec of services) await runToEnd(`migrate ${spec.name}`, `apps/${spec.name}/dist/cli/migrate.js`, migrationEnv(spec, stack), 60_000);
    await runToEnd('provision', 'libs/events/dist/provision.js', { ...provisioningEnv(stack), KAFKA_NAMESPACE: process.env['KAFKA_NAMESPACE'] ?? '' }, 120_000);
    for (const spec of services) running.push(launch(spec.name, entry(spec), serviceEnv(spec, stack, keys)));
    await Promise.all(
      running.map(async (service) => {
        const spec = services.find((s) => s.name === service.name) as ServiceSpec;
        const deadline = Date.now() + 90_000;
        let last = 'no answer';
        while (Date.now() < deadline && service.child.exitCode === null) {
          try {
            const response = await fetch(`http://127.0.0.1:${spec.port}/health/ready`);
            if (response.ok) return log(`${service.name}: ready (node ${entry(spec)})`);
            last = `${response.status} ${await response.text()}`;
          } catch (error) {
            last = (error as Error).message;
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
        throw new Error(`${service.name} from the image was not ready (${service.child.exitCode === null ? 'still running' : 'exited'}; last answer: ${last}); last lines of ${service.logFile}:\n${tail(service.logFile)}`);
      }),
    );
    // A clean shutdown on SIGTERM, as Kubernetes stops a pod.
    await Promise.all(
      running.map(async (service) => {
        service.child.kill('SIGTERM');
        const timer = setTimeout(() => service.child.kill('SIGKILL'), 30_000);
        const { code, signal } = await service.exited;
        clearTimeout(timer);
        if (code !== 0) throw new Error(`${service.name} ended with ${signal ?? `exit code ${code}`} after SIGTERM; last lines of ${service.logFile}:\n${tail(service.logFile)}`);
      }),
    );
    log(`all four services ready and stopped cleanly; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  } finally {
    for (const service of running) if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    if (keep) log(`scratch root kept: ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  console.error(`production-stage: FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
