import { describe, expect, it } from 'vitest';
import { waitFor } from './index.js';

describe('waitFor', () => {
  it('returns the first defined value the probe yields', async () => {
    let calls = 0;
    const value = await waitFor('the third call', async () => (++calls >= 3 ? calls : undefined), { intervalMs: 1 });
    expect(value).toBe(3);
  });

  it('fails with the description and the last error once the bound is reached', async () => {
    await expect(
      waitFor(
        'a thing that never happens',
        async () => {
          throw new Error('still broken');
        },
        { timeoutMs: 30, intervalMs: 5 },
      ),
    ).rejects.toThrow(/Timed out after 30 ms waiting for a thing that never happens \(last error: still broken\)/);
  });
});
