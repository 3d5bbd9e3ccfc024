import { describe, expect, it } from 'vitest';
import { HashingSlots, PasswordHashingBusyError } from './hashing.js';

/** Work that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, work: () => opened };
}

describe('HashingSlots', () => {
  it('runs at most maxConcurrent at once, queues maxQueue, refuses the rest at once', async () => {
    const slots = new HashingSlots(2, 1);
    const gates = [gate(), gate(), gate()];
    const running = gates.map((g) => slots.run(g.work));
    expect(slots.busy).toEqual({ active: 2, waiting: 1 });
    await expect(slots.run(async () => 'x')).rejects.toBeInstanceOf(PasswordHashingBusyError);
    gates[0]!.open();
    await running[0];
    // The queued one took the freed slot.
    expect(slots.busy).toEqual({ active: 2, waiting: 0 });
    gates[1]!.open();
    gates[2]!.open();
    await Promise.all(running);
    expect(slots.busy).toEqual({ active: 0, waiting: 0 });
    await expect(slots.run(async () => 'done')).resolves.toBe('done');
  });

  it('frees the slot when the work fails', async () => {
    const slots = new HashingSlots(1, 0);
    await expect(slots.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
  });
});
