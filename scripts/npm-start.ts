/**
 * `npm start` as a user (or a process manager) runs it, for npm test: launched as its own
 * process, used while it runs, and stopped with SIGTERM sent to the npm process only (not to its
 * process group, unlike Ctrl-C), after which every service and the gateway must be gone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayPort, repoRoot, services, stateDir } from '@eventflow/system-harness';

export interface NpmStart {
  child: ChildProcess;
  baseUrl: string;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts `npm start -- --no-generate` and resolves once it reports the system up (rejects if it exits first). */
export function launchNpmStart(env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<NpmStart> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['start', '--', '--no-generate'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let up = false;
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`npm start did not report the system up within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      if (!up && chunk.toString().includes('eventflow is up')) {
        up = true;
        clearTimeout(timer);
        resolve({ child, baseUrl: `http://127.0.0.1:${gatewayPort}` });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!up) reject(new Error(`npm start exited (${signal ?? `code ${code}`}) before the system was up`));
    });
  });
}

/**
 * Sends SIGTERM to the npm process and checks what Ctrl-C guarantees: npm start exits, every
 * service process it started is gone and the gateway no longer answers. Returns the problems.
 */
export async function stopNpmStartWithSigterm(started: NpmStart, timeoutMs = 90_000): Promise<string[]> {
  const pids = services
    .map((spec) => join(stateDir, 'run', `${spec.name}.pid`))
    .filter((file) => existsSync(file))
    .map((file) => Number(readFileSync(file, 'utf8')));
  const problems: string[] = [];
  if (pids.length !== services.length) problems.push(`only ${pids.length} of ${services.length} service pid files before the SIGTERM`);
  const exited = new Promise<number | null>((resolve) => {
    if (started.child.exitCode !== null) resolve(started.child.exitCode);
    else started.child.once('exit', (code) => resolve(code));
  });
  started.child.kill('SIGTERM');
  const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref())]);
  if (code === 'timeout') {
    problems.push(`npm start still running ${timeoutMs / 1000} s after SIGTERM`);
    started.child.kill('SIGKILL');
  } else if (code !== 0) problems.push(`npm start exited with code ${code} after SIGTERM`);
  const running = pids.filter(isAlive);
  if (running.length > 0) problems.push(`service processes still running after SIGTERM: ${running.join(', ')}`);
  const gatewayAnswers = await fetch(`${started.baseUrl}/users/me`, { signal: AbortSignal.timeout(2_000) }).then(
    () => true,
    () => false,
  );
  if (gatewayAnswers) problems.push(`the gateway on :${gatewayPort} still answers after SIGTERM`);
  return problems;
}
