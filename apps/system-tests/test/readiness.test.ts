import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '@eventflow/testing';
import { repoRoot, stateDir } from '@eventflow/system-harness';
import { deposit, newUser, placeOrder, waitForFinalOrder } from './support.js';

const ready = async (port: number) => {
  const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
  return { status: response.status, body: (await response.json()) as { status: string; checks: Record<string, string> } };
};

describe('readiness', () => {
  it('reports Kafka down but stays in the load balancer (degraded) while Kafka is down, and the flow resumes', { timeout: 360_000 }, async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    const kafkaPid = Number(readFileSync(join(stateDir, 'run', 'kafka.pid'), 'utf8'));
    process.kill(-kafkaPid, 'SIGKILL'); // the broker dies, as a pod would
    try {
      for (const port of [3001, 3002, 3003, 3004]) {
        // The API does not need Kafka (writes wait in the outbox), so the instance stays ready.
        const answer = await waitFor(`service on ${port} to report Kafka unreachable`, async () => {
          const r = await ready(port);
          return r.body.checks['kafka'] !== 'ok' ? r : undefined;
        }, { timeoutMs: 60_000, intervalMs: 250 });
        expect(answer).toMatchObject({ status: 200, body: { status: 'degraded', checks: { database: 'ok' } } });
      }
      // Orders are still accepted: they wait in the outbox until Kafka is back.
      const order = await placeOrder(user, 100);
      execFileSync('bash', ['scripts/stack/stack', 'up'], { cwd: repoRoot, stdio: 'ignore' });
      for (const port of [3001, 3002, 3003, 3004]) {
        await waitFor(`service on ${port} to be ready again`, async () => ((await ready(port)).body.status === 'ready' ? true : undefined), {
          timeoutMs: 120_000,
          intervalMs: 500,
        });
      }
      expect((await waitForFinalOrder(user, order.id, 120_000)).status).toBe('PAID');
    } finally {
      execFileSync('bash', ['scripts/stack/stack', 'up'], { cwd: repoRoot, stdio: 'ignore' });
    }
  });
});
