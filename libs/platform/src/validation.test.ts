import { describe, expect, it } from 'vitest';
import { PoisonMessageError } from './errors.js';
import { check, isUuid, problemsOf, rejectInvalid } from './validation.js';

describe('event field checks', () => {
  it('accepts UUIDs of any version and nothing else', () => {
    expect(isUuid('00000000-0000-4000-8000-000000000001')).toBe(true);
    expect(isUuid('6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid('00000000-0000-4000-8000-00000000000')).toBe(false);
    expect(isUuid(42)).toBe(false);
  });

  it('wants money as a positive safe integer within the bound', () => {
    expect(check.positiveMinorUnits('price', 1, 100)).toBeUndefined();
    expect(check.positiveMinorUnits('price', 0, 100)).toMatch(/price must be an integer in 1\.\.100, got 0/);
    expect(check.positiveMinorUnits('price', -5, 100)).toBeDefined();
    expect(check.positiveMinorUnits('price', 101, 100)).toBeDefined();
    expect(check.positiveMinorUnits('price', 1.5, 100)).toBeDefined();
  });

  it('knows enum values and empty strings', () => {
    expect(check.oneOf('reason', 'A', ['A', 'B'])).toBeUndefined();
    expect(check.oneOf('reason', 'C', ['A', 'B'])).toMatch(/reason must be one of A, B/);
    expect(check.nonEmpty('reason', '  ')).toBeDefined();
  });

  it('rejects an event with every problem named, as poison', () => {
    const problems = problemsOf(check.uuid('orderId', 'x'), check.uuid('userId', '00000000-0000-4000-8000-000000000001'), check.positiveMinorUnits('price', 0, 10));
    expect(problems).toHaveLength(2);
    expect(() => rejectInvalid('OrderPlaced', problems)).toThrow(PoisonMessageError);
    expect(() => rejectInvalid('OrderPlaced', problems)).toThrow(/invalid OrderPlaced: orderId is not a UUID: "x"; price must be/);
    expect(() => rejectInvalid('OrderPlaced', [])).not.toThrow();
  });
});
