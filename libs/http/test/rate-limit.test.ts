import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createTestTokens } from '@eventflow/testing';
import {
  authenticatedRoutes,
  createHttpServer,
  createTokenVerifier,
  rateLimiter,
  type HttpServer,
  type RateLimitCounter,
} from '../src/index.js';

const tokens = createTestTokens();
const user = { id: '8f0b7d3c-56a8-4a53-9a5e-2f1f6d1f0c11', email: 'u@example.com' };

/** A counter with the shared-store contract, kept in a Map: what user-service keeps in PostgreSQL. */
function mapCounter(): RateLimitCounter & { keys: () => string[] } {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const read = async (key: string) => {
    const entry = windows.get(key);
    return entry && entry.resetAt > Date.now() ? { count: entry.count, resetInMs: entry.resetAt - Date.now() } : { count: 0, resetInMs: 0 };
  };
  return {
    keys: () => [...windows.keys()],
    read,
    increment: async (key, windowMs) => {
      const entry = windows.get(key);
      if (!entry || entry.resetAt <= Date.now()) windows.set(key, { count: 1, resetAt: Date.now() + windowMs });
      else entry.count += 1;
      return read(key);
    },
  };
}

let app: HttpServer;
const shared = mapCounter();

beforeAll(async () => {
  app = await createHttpServer({
    service: 'rate-limit-test',
    version: '1.0.0',
    description: 'test',
    logger: createLogger('rate-limit-test', 'silent'),
    bodyLimit: 1_024,
    prefix: '/t',
    readiness: [],
    edge: { trustedProxies: ['127.0.0.1'], rateLimitExemptAddresses: ['198.51.100.99'], userRequestsPerMinute: 3 },
  });
  const byAddress = rateLimiter(app, { name: 'try-ip', max: 2, windowMs: 60_000, key: (request) => request.ip, counter: shared });
  const failures = rateLimiter(app, { name: 'fail-name', max: 2, windowMs: 60_000, key: (request) => (request.query as { name?: string }).name });
  app.post('/t/try', { onRequest: byAddress.consume }, async () => ({ ok: true }));
  app.post('/t/fail', { preHandler: failures.check }, async (request, reply) => {
    await failures.record(request);
    return reply.code(401).send({ failed: true });
  });
  authenticatedRoutes(app, await createTokenVerifier(tokens), (scope) => scope.get('/t/me', async () => ({ ok: true })));
});
afterAll(() => app.close());

const from = (address: string) => ({ 'x-forwarded-for': address });

describe('rate limits', () => {
  it('answers 429 problem+json with Retry-After and RateLimit-* headers once a client address is over the limit', async () => {
    const first = await app.inject({ method: 'POST', url: '/t/try', headers: from('203.0.113.1') });
    expect(first.statusCode).toBe(200);
    expect(first.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-policy': '2;w=60' });
    expect((await app.inject({ method: 'POST', url: '/t/try', headers: from('203.0.113.1') })).statusCode).toBe(200);
    const refused = await app.inject({ method: 'POST', url: '/t/try', headers: from('203.0.113.1') });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers).toMatchObject({ 'ratelimit-limit': '2', 'ratelimit-remaining': '0' });
    expect(Number(refused.headers['ratelimit-reset'])).toBeLessThanOrEqual(60);
    expect(refused.json()).toMatchObject({ status: 429, title: 'Too many requests', type: expect.stringContaining('rate-limited') });
    // Another address has its own count; the shared counter saw both.
    expect((await app.inject({ method: 'POST', url: '/t/try', headers: from('203.0.113.2') })).statusCode).toBe(200);
    expect(shared.keys()).toEqual(expect.arrayContaining(['try-ip:203.0.113.1', 'try-ip:203.0.113.2']));
  });

  it('takes X-Forwarded-For only from a trusted proxy, and lets exempt addresses through', async () => {
    // The peer (inject: 127.0.0.1) is trusted here, so the header names the client ...
    for (let i = 0; i < 5; i += 1) expect((await app.inject({ method: 'POST', url: '/t/try', headers: from('198.51.100.99') })).statusCode).toBe(200);
    // ... and a proxy that is not trusted cannot choose it: its peer address is counted.
    const untrusted = await app.inject({ method: 'POST', url: '/t/try', headers: from('198.51.100.99'), remoteAddress: '192.0.2.50' });
    expect(untrusted.statusCode).toBe(200);
    expect(shared.keys()).toContain('try-ip:192.0.2.50');
  });

  it('a limit on failures refuses only once they are used up, and counts nothing else', async () => {
    for (let i = 0; i < 2; i += 1) expect((await app.inject({ method: 'POST', url: '/t/fail?name=ada' })).statusCode).toBe(401);
    const refused = await app.inject({ method: 'POST', url: '/t/fail?name=ada' });
    expect(refused.statusCode).toBe(429);
    expect((await app.inject({ method: 'POST', url: '/t/fail?name=grace' })).statusCode).toBe(401);
  });

  it('limits each authenticated user on their own, after authentication, and counts refusals in /metrics', async () => {
    const auth = (u: typeof user) => async () => ({ authorization: `Bearer ${await tokens.tokenFor(u)}` });
    const ada = auth(user);
    const grace = auth({ ...user, id: '9a0b7d3c-56a8-4a53-9a5e-2f1f6d1f0c12' });
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await app.inject({ method: 'GET', url: '/t/me', headers: { ...from('203.0.113.7'), ...(await ada()) } })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect((await app.inject({ method: 'GET', url: '/t/me', headers: { ...from('203.0.113.7'), ...(await grace()) } })).statusCode).toBe(200);
    // No token: 401 from authentication, not a count against anyone.
    expect((await app.inject({ method: 'GET', url: '/t/me', headers: from('203.0.113.7') })).statusCode).toBe(401);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/eventflow_audit_events_total\{event="rate_limited",reason="user"[^}]*\} 1/);
    expect(metrics).toMatch(/eventflow_audit_events_total\{event="rate_limited",reason="try-ip"[^}]*\} [1-9]/);
  });
});
