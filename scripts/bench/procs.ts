/**
 * CPU time and memory of the system's processes, read from /proc (Linux): each service, Kafka,
 * the schema registry and PostgreSQL (the postmaster and all its backends, summed).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux this runs on. */
const ticksPerSecond = 100;

export interface ProcessGroup {
  name: string;
  /** The pids that make up the group, re-resolved at every sample (backends come and go). */
  pids: () => number[];
}

export interface Sample {
  at: number;
  /** CPU milliseconds consumed so far (user + system), per group. */
  cpuMs: Record<string, number>;
  /** Resident memory in bytes, per group (proportional set size for PostgreSQL's shared pages). */
  memoryBytes: Record<string, number>;
}

function readStat(pid: number): { cpuMs: number; pgid: number; comm: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: the fields after it start at the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state); utime is field 14, stime 15, pgrp 5.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return { cpuMs: ((utime + stime) * 1000) / ticksPerSecond, pgid: Number(fields[2]), comm };
  } catch {
    return undefined;
  }
}

function memoryOf(pid: number, proportional: boolean): number {
  try {
    if (proportional) {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
      const pss = rollup.match(/^Pss:\s+(\d+) kB/m);
      if (pss?.[1]) return Number(pss[1]) * 1024;
    }
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = status.match(/^VmRSS:\s+(\d+) kB/m);
    return rss?.[1] ? Number(rss[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const allPids = (): number[] =>
  readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);

/** Every process in the process group led by the pid in a pid file (the stack starts Kafka and the registry with setsid). */
export function processGroupOf(pidFile: string): () => number[] {
  return () => {
    if (!existsSync(pidFile)) return [];
    const leader = Number(readFileSync(pidFile, 'utf8').trim());
    return allPids().filter((pid) => readStat(pid)?.pgid === leader);
  };
}

/** Every process named postgres: the postmaster, its backends and background workers. */
export const postgresProcesses = (): number[] => allPids().filter((pid) => readStat(pid)?.comm === 'postgres');

export const singleProcess = (pid: number) => (): number[] => [pid];

export function sample(groups: ProcessGroup[]): Sample {
  const cpuMs: Record<string, number> = {};
  const memoryBytes: Record<string, number> = {};
  for (const group of groups) {
    const pids = group.pids();
    cpuMs[group.name] = pids.reduce((sum, pid) => sum + (readStat(pid)?.cpuMs ?? 0), 0);
    // Backends share PostgreSQL's buffers: summing their RSS would count them once per backend.
    memoryBytes[group.name] = pids.reduce((sum, pid) => sum + memoryOf(pid, pids.length > 1), 0);
  }
  return { at: Date.now(), cpuMs, memoryBytes };
}

/**
 * Samples every interval; `stop` returns CPU used between start and stop and the peak memory.
 * CPU is accumulated per pid between samples, so a backend that exits mid-step keeps what it used
 * up to its last sample and a new one counts from zero.
 */
export function monitor(groups: ProcessGroup[], intervalMs = 500) {
  const started = Date.now();
  const lastCpu = new Map<number, number>();
  const used: Record<string, number> = {};
  const peak: Record<string, number> = {};
  const take = (first: boolean) => {
    for (const group of groups) {
      const pids = group.pids();
      let memory = 0;
      for (const pid of pids) {
        const cpu = readStat(pid)?.cpuMs;
        if (cpu === undefined) continue;
        if (!first) used[group.name] = (used[group.name] ?? 0) + cpu - (lastCpu.get(pid) ?? 0);
        lastCpu.set(pid, cpu);
        // Backends share PostgreSQL's buffers: summing their RSS would count them once per backend.
        memory += memoryOf(pid, pids.length > 1);
      }
      used[group.name] ??= 0;
      peak[group.name] = Math.max(peak[group.name] ?? 0, memory);
    }
  };
  take(true);
  const timer = setInterval(() => take(false), intervalMs);
  return {
    stop(): { seconds: number; cpuMs: Record<string, number>; peakMemoryMb: Record<string, number> } {
      clearInterval(timer);
      take(false);
      const peakMemoryMb = Object.fromEntries(Object.entries(peak).map(([name, bytes]) => [name, Math.round(bytes / 2 ** 20)]));
      return { seconds: (Date.now() - started) / 1000, cpuMs: { ...used }, peakMemoryMb };
    },
  };
}

export const stackPidFile = (stateDir: string, name: string): string => join(stateDir, 'run', `${name}.pid`);
