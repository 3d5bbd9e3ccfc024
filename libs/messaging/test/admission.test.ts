import { describe, expect, it } from 'vitest';
import { admissionVerdict } from '../src/admission.js';

const healthy = { outboxAgeMs: 50, groups: [{ groupId: 'billing-service', lag: 15, ratePerSecond: 40 }] };

describe('admissionVerdict', () => {
  it('admits while every stage is within the limit', () => {
    expect(admissionVerdict(healthy, 3_000)).toEqual({ admit: true });
    // 100 messages at 50/s is 2 s behind: within 3 s.
    expect(admissionVerdict({ outboxAgeMs: 0, groups: [{ groupId: 'g', lag: 100, ratePerSecond: 50 }] }, 3_000).admit).toBe(true);
  });

  it('refuses when a consumer is further behind than the limit, naming it, with Retry-After', () => {
    const verdict = admissionVerdict({ outboxAgeMs: 0, groups: [{ groupId: 'billing-service', lag: 400, ratePerSecond: 50 }] }, 3_000);
    expect(verdict.admit).toBe(false);
    expect(verdict.reason).toContain('consumer billing-service is 8.0 s behind');
    // Back under the 3 s limit in about 5 s.
    expect(verdict.retryAfterSeconds).toBe(5);
  });

  it('refuses when the outbox is too old', () => {
    const verdict = admissionVerdict({ outboxAgeMs: 4_500, groups: [] }, 3_000);
    expect(verdict).toMatchObject({ admit: false, retryAfterSeconds: 2 });
    expect(verdict.reason).toContain('outbox');
  });

  it('treats a stalled consumer with a lag as indefinitely behind, but ignores a small lag', () => {
    expect(admissionVerdict({ outboxAgeMs: 0, groups: [{ groupId: 'g', lag: 500, ratePerSecond: 0 }] }, 3_000)).toMatchObject({ admit: false, retryAfterSeconds: 5 });
    expect(admissionVerdict({ outboxAgeMs: 0, groups: [{ groupId: 'g', lag: 10, ratePerSecond: 0 }] }, 3_000).admit).toBe(true);
  });

  it('caps Retry-After at 30 s and is off with a limit of 0', () => {
    expect(admissionVerdict({ outboxAgeMs: 600_000, groups: [] }, 3_000).retryAfterSeconds).toBe(30);
    expect(admissionVerdict({ outboxAgeMs: 600_000, groups: [] }, 0)).toEqual({ admit: true });
  });
});
