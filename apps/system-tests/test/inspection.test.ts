import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { namespaced, topics } from '@eventflow/events';
import { repoRoot } from '@eventflow/system-harness';
import { newUser } from './support.js';

const run = promisify(execFile);

describe('event inspection', () => {
  it('npm run events -- tail decodes a real event with its key, partition, offset and headers', async () => {
    const user = await newUser();
    // The system under test publishes in this run's Kafka namespace (KAFKA_NAMESPACE), not to the release topic.
    const { stdout } = await run('npx', ['tsx', 'scripts/events.ts', 'tail', namespaced(topics.userEvents), '--from-beginning', '--idle-seconds', '3'], {
      cwd: repoRoot,
      timeout: 90_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    const lines = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { key: string; partition: number; offset: string; headers: Record<string, string>; value: { type: string; payload: { email: string } } });
    const mine = lines.find((l) => l.key === user.id);
    expect(mine).toMatchObject({
      partition: expect.any(Number),
      offset: expect.stringMatching(/^\d+$/),
      headers: { 'event-type': 'UserCreated' },
      value: { type: 'UserCreated', payload: { email: user.email } },
    });
  });
});
