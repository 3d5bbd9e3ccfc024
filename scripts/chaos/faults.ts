/**
 * The faults of a chaos run, each followed by the restart `npm start` would do: a service
 * instance is started again by the system harness with the same environment; Kafka and the
 * registry by `stack start <part>`; PostgreSQL is stopped the way `stack down` does it (fast
 * shutdown) and started by `stack restart postgres`. A paused consumer is resumed.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultGroupTiming } from '@eventflow/messaging';
import { repoRoot, stateDir, startService, type RunningService, type ServiceSpec, type StartOptions } from '@eventflow/system-harness';
import type { Random } from './random.js';

const run = promisify(execFile);

export const faultKinds = ['kill-service', 'kill-kafka', 'kill-registry', 'restart-postgres', 'pause-consumer'] as const;
export type FaultKind = (typeof faultKinds)[number];

export interface FaultRecord {
  kind: FaultKind;
  target: string;
  /** Seconds since the load started. */
  at: number;
  /** Kill (or stop, or pause) to the component being back (process ready, or resumed), ms. */
  downMs: number;
  /** For a killed service instance: from its new process's start to /health/ready answering 200. */
  startToServeMs?: number;
  /** Kill to every instance of every service ready again, ms. */
  recoveredMs: number;
}

/** One instance of a service that the harness can kill and start again. */
export interface Instance {
  spec: ServiceSpec;
  env: Record<string, string>;
  options: StartOptions & { instance: { name: string; port: number } };
  running: RunningService;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function ready(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_500) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** Polls until every instance is ready; returns the time it took. */
export async function waitAllReady(instances: Instance[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const states = await Promise.all(instances.map((i) => ready(i.running.spec.port)));
    if (states.every(Boolean)) return Date.now() - started;
    if (Date.now() - started > timeoutMs) {
      const down = instances.filter((_, k) => !states[k]).map((i) => i.running.id);
      throw new Error(`not ready ${timeoutMs} ms after a fault: ${down.join(', ')}`);
    }
    await sleep(100);
  }
}

const stackPid = (part: 'kafka' | 'registry'): number => Number(readFileSync(join(stateDir, 'run', `${part}.pid`), 'utf8').trim());
const stack = (...args: string[]) => run('bash', ['scripts/stack/stack', ...args], { cwd: repoRoot, timeout: 300_000 });

export class FaultInjector {
  readonly records: FaultRecord[] = [];

  constructor(
    private readonly instances: Instance[],
    private readonly random: Random,
    private readonly loadStartedAt: number,
    private readonly log: (line: string) => void,
    private readonly recoveryTimeoutMs = 180_000,
  ) {}

  async inject(kind: FaultKind): Promise<FaultRecord> {
    const at = (Date.now() - this.loadStartedAt) / 1000;
    const started = Date.now();
    let target: string;
    let downMs: number;
    let startToServeMs: number | undefined;
    switch (kind) {
      case 'kill-service': {
        const victim = this.random.pick(this.instances);
        target = victim.running.id;
        process.kill(victim.running.pid, 'SIGKILL');
        await this.waitExited(victim.running.pid);
        const restartedAt = Date.now();
        victim.running = startService(victim.spec, victim.env, victim.options);
        while (!(await ready(victim.running.spec.port))) {
          if (Date.now() - restartedAt > this.recoveryTimeoutMs) throw new Error(`${target} not ready ${this.recoveryTimeoutMs} ms after its restart`);
          await sleep(50);
        }
        startToServeMs = Date.now() - restartedAt;
        downMs = Date.now() - started;
        break;
      }
      case 'kill-kafka':
      case 'kill-registry': {
        const part = kind === 'kill-kafka' ? 'kafka' : 'registry';
        target = part;
        const pid = stackPid(part);
        process.kill(-pid, 'SIGKILL'); // the whole process group, as a node failure would
        await this.waitExited(pid);
        await stack('start', part);
        downMs = Date.now() - started;
        break;
      }
      case 'restart-postgres': {
        target = 'postgres';
        await stack('restart', 'postgres');
        downMs = Date.now() - started;
        break;
      }
      case 'pause-consumer': {
        const consumers = this.instances.filter((i) => i.spec.name !== 'user-service');
        const victim = this.random.pick(consumers);
        target = victim.running.id;
        // Longer than the session timeout: the group replaces the member, which then wakes up as a zombie.
        const pauseMs = defaultGroupTiming.sessionTimeoutMs + 5_000;
        process.kill(victim.running.pid, 'SIGSTOP');
        try {
          await sleep(pauseMs);
        } finally {
          process.kill(victim.running.pid, 'SIGCONT');
        }
        downMs = Date.now() - started;
        break;
      }
    }
    await waitAllReady(this.instances, this.recoveryTimeoutMs);
    const record: FaultRecord = { kind, target, at, downMs, ...(startToServeMs === undefined ? {} : { startToServeMs }), recoveredMs: Date.now() - started };
    this.records.push(record);
    this.log(
      `fault ${this.records.length}: ${kind} ${target} at ${at.toFixed(1)} s; back after ${(downMs / 1000).toFixed(1)} s` +
        (startToServeMs === undefined ? '' : ` (new process serving ${(startToServeMs / 1000).toFixed(1)} s after its start)`) +
        `, all instances ready after ${(record.recoveredMs / 1000).toFixed(1)} s`,
    );
    return record;
  }

  private async waitExited(pid: number): Promise<void> {
    for (let i = 0; i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await sleep(25);
    }
  }
}

/** The seeded order of faults: every kind once per round, shuffled, as many as asked. */
export function faultPlan(random: Random, count: number): FaultKind[] {
  const plan: FaultKind[] = [];
  while (plan.length < count) plan.push(...random.shuffle(faultKinds));
  return plan.slice(0, count);
}
