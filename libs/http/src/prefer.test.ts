import { describe, expect, it } from 'vitest';
import { grantedWaitSeconds, preferredWaitSeconds } from './prefer.js';

describe('Prefer: wait (RFC 7240)', () => {
  it('reads wait among other preferences, in any case, quoted or with parameters', () => {
    expect(preferredWaitSeconds('wait=10')).toBe(10);
    expect(preferredWaitSeconds('respond-async, WAIT=5')).toBe(5);
    expect(preferredWaitSeconds('wait="7"')).toBe(7);
    expect(preferredWaitSeconds(['return=minimal', 'wait=3; foo=bar'])).toBe(3);
    expect(preferredWaitSeconds('wait=0')).toBe(0);
  });

  it('ignores a missing or invalid wait instead of failing the request', () => {
    expect(preferredWaitSeconds(undefined)).toBeUndefined();
    expect(preferredWaitSeconds('return=representation')).toBeUndefined();
    expect(preferredWaitSeconds('wait=soon')).toBeUndefined();
    expect(preferredWaitSeconds('wait=-1')).toBeUndefined();
    expect(preferredWaitSeconds('wait')).toBeUndefined();
  });

  it('grants at most the configured maximum, and nothing when waiting is off', () => {
    expect(grantedWaitSeconds('wait=120', 30)).toBe(30);
    expect(grantedWaitSeconds('wait=5', 30)).toBe(5);
    expect(grantedWaitSeconds('wait=5', 0)).toBe(0);
    expect(grantedWaitSeconds(undefined, 30)).toBe(0);
  });
});
