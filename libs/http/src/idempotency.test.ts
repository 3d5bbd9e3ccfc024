import { describe, expect, it } from 'vitest';
import { canonicalJson, requestFingerprint } from './idempotency.js';

describe('request fingerprints of Idempotency-Keys', () => {
  const request = { method: 'POST', route: '/billing/accounts/:userId/withdrawals', userId: '8f0b7d3c-56a8-4a53-9a5e-2f1f6d1f0c11', body: { amount: 100 } };

  it('writes JSON with sorted keys at every level, so equal bodies are equal text', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[2,{"e":null,"f":1}]},"b":1}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('is the same for the same request whatever the key order of its body', () => {
    expect(requestFingerprint({ ...request, body: { amount: 100, note: 'x' } })).toBe(requestFingerprint({ ...request, body: { note: 'x', amount: 100 } }));
  });

  it.each([
    ['method', { method: 'PUT' }],
    ['route', { route: '/billing/accounts/:userId/deposits' }],
    ['user', { userId: '0b1d3c2a-56a8-4a53-9a5e-2f1f6d1f0c11' }],
    ['body', { body: { amount: 101 } }],
    ['body type', { body: { amount: '100' } }],
  ])('differs when the %s differs', (_part, change) => {
    expect(requestFingerprint({ ...request, ...change })).not.toBe(requestFingerprint(request));
  });
});
