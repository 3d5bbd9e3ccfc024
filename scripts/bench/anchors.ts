/**
 * The anchors every figure is divided by, measured in the same run on the same machine:
 * PostgreSQL's TPC-B rate (pgbench in a scratch database) and the HTTP floor (how many
 * requests per second a service answers on /health/live, which does no work).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import autocannon from 'autocannon';
import type { BenchDatabases } from './database.js';

const scratchDatabase = 'bench_pgbench';

/** pgbench ships with Debian's postgresql-15 package, which the stack installs. */
export function findPgbench(): string {
  const candidates = ['/usr/lib/postgresql/15/bin/pgbench'];
  try {
    candidates.push(`${execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim()}/pgbench`);
  } catch {
    // pg_config is optional; the Debian path is the one the stack uses
  }
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`pgbench not found (looked in ${candidates.join(', ')}); it ships with PostgreSQL 15, which npm run stack -- up installs`);
  return found;
}

export interface PgbenchResult {
  tps: number;
  clients: number;
  seconds: number;
  scale: number;
}

/** TPC-B (pgbench's default script) against a freshly initialised scratch database, then dropped. */
export async function runPgbench(databases: BenchDatabases, adminUrl: string, options: { scale: number; clients: number; seconds: number }): Promise<PgbenchResult> {
  const pgbench = findPgbench();
  await databases.query('postgres', `DROP DATABASE IF EXISTS ${scratchDatabase}`);
  await databases.query('postgres', `CREATE DATABASE ${scratchDatabase}`);
  const url = new URL(adminUrl);
  const env = { ...process.env, PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username), PGPASSWORD: decodeURIComponent(url.password) };
  try {
    execFileSync(pgbench, ['-i', '-q', '-s', String(options.scale), scratchDatabase], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const output = execFileSync(pgbench, ['-n', '-c', String(options.clients), '-j', '2', '-T', String(options.seconds), scratchDatabase], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const tps = output.match(/tps = ([\d.]+) \(without initial connection time\)/)?.[1];
    if (!tps) throw new Error(`could not read pgbench's tps from:\n${output}`);
    return { tps: Number(tps), clients: options.clients, seconds: options.seconds, scale: options.scale };
  } finally {
    await databases.query('postgres', `DROP DATABASE IF EXISTS ${scratchDatabase}`);
  }
}

export interface HttpFloorResult {
  url: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  connections: number;
  seconds: number;
  non2xx: number;
}

/** Closed-loop GET on a route that does no work: what HTTP alone costs on this machine. */
export async function runHttpFloor(url: string, options: { connections: number; seconds: number }): Promise<HttpFloorResult> {
  const result = await autocannon({ url, connections: options.connections, duration: options.seconds });
  return {
    url,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    connections: options.connections,
    seconds: options.seconds,
    non2xx: result.non2xx,
  };
}
