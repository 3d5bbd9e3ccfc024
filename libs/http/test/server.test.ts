import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createTestTokens } from '@eventflow/testing';
import { HttpProblem, amountSchema, authenticatedRoutes, callerOf, createHttpServer, createTokenVerifier, requireUser, type HttpServer } from '../src/index.js';

const tokens = createTestTokens();
/** A domain error of the kind a service maps to a problem. */
class OutOfStockError extends Error {}
let healthy = true;
let app: HttpServer;

beforeAll(async () => {
  app = await createHttpServer({
    service: 'test',
    version: '1.0.0',
    description: 'test',
    logger: createLogger('http-test', 'silent'),
    bodyLimit: 1_024,
    prefix: '/things',
    swaggerUi: true,
    domainErrors: (error) => (error instanceof OutOfStockError ? HttpProblem.conflict('out-of-stock', 'Out of stock', error.message) : undefined),
    readiness: [
      {
        name: 'dependency',
        check: async () => {
          if (!healthy) throw new Error('dependency down');
        },
      },
    ],
  });
  const verify = await createTokenVerifier(tokens);
  app.post(
    '/things',
    { preHandler: requireUser(verify), schema: { body: Type.Object({ amount: amountSchema('Amount.') }, { additionalProperties: false }) } },
    async (request) => ({ amount: request.body.amount, by: callerOf(request).id }),
  );
  app.get('/things/conflict', async () => {
    throw HttpProblem.conflict('thing-taken', 'Thing taken', 'Somebody has it.', { holder: 'x' });
  });
  app.get('/things/domain', async () => {
    throw new OutOfStockError('none left');
  });
  app.get('/things/crash', async () => {
    throw new Error('secret internals');
  });
  app.get('/things/busy', async () => {
    throw HttpProblem.overloaded('Too much waiting.', 7);
  });
  app.get('/things/pool-exhausted', async () => {
    // What Prisma throws when no pooled connection frees up within maxWait.
    throw Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), { code: 'P2028' });
  });
  authenticatedRoutes(app, verify, (scope) => {
    scope.post('/things/guarded', { schema: { body: Type.Object({ amount: amountSchema('Amount.') }, { additionalProperties: false }) } }, async (request) => ({
      amount: request.body.amount,
      by: callerOf(request).id,
    }));
  });
  await app.ready();
});
afterAll(() => app.close());

describe('domainErrors', () => {
  it("answers a domain error with the service's problem for it, and anything else as before", async () => {
    const mapped = await app.inject({ method: 'GET', url: '/things/domain' });
    expect(mapped.statusCode).toBe(409);
    expect(mapped.json()).toMatchObject({ type: expect.stringContaining('out-of-stock'), status: 409, detail: 'none left' });
    expect((await app.inject({ method: 'GET', url: '/things/crash' })).statusCode).toBe(500);
  });
});

describe('authenticatedRoutes', () => {
  const post = async (payload: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/things/guarded', payload, headers: { 'content-type': 'application/json', ...headers } });

  it('answers an anonymous request 401 before it validates the body', async () => {
    const response = await post('{"amount": "not a number"}');
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('validates the body of an authenticated request and runs the route', async () => {
    const authorization = `Bearer ${await tokens.tokenFor({ id: 'u-2', email: 'v@example.com' })}`;
    expect((await post('{"amount": "not a number"}', { authorization })).statusCode).toBe(400);
    const accepted = await post('{"amount": 7}', { authorization });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toEqual({ amount: 7, by: 'u-2' });
  });
});

describe('HTTP conventions', () => {
  const post = async (payload: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/things', payload, headers: { 'content-type': 'application/json', ...headers } });

  it('accepts a valid request from an authenticated caller', async () => {
    const token = await tokens.tokenFor({ id: 'u-1', email: 'u@example.com' });
    const response = await post('{"amount": 5}', { authorization: `Bearer ${token}` });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ amount: 5, by: 'u-1' });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers every kind of bad request with an RFC 9457 problem', async () => {
    const auth = { authorization: `Bearer ${await tokens.tokenFor({ id: 'u-1', email: 'u@example.com' })}` };
    const cases: Array<[number, Promise<Awaited<ReturnType<typeof post>>>]> = [
      [401, post('{"amount": 5}')],
      [400, post('{"amount": "5"}', auth)],
      [400, post('{"amount":', auth)],
      [413, post(JSON.stringify({ amount: 1, padding: 'x'.repeat(2_000) }), auth)],
      [415, app.inject({ method: 'POST', url: '/things', payload: 'amount=5', headers: { 'content-type': 'text/plain', ...auth } })],
      [404, app.inject({ method: 'GET', url: `/nothing/${randomUUID()}` })],
      [409, app.inject({ method: 'GET', url: '/things/conflict' })],
      [500, app.inject({ method: 'GET', url: '/things/crash' })],
    ];
    for (const [status, pending] of cases) {
      const response = await pending;
      expect(response.statusCode, response.body).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      const problem = response.json();
      expect(problem).toMatchObject({ status, type: expect.stringMatching(/^https:\/\//), title: expect.any(String), detail: expect.any(String) });
    }
    const crash = await app.inject({ method: 'GET', url: '/things/crash' });
    expect(crash.body).not.toContain('secret internals');
    expect((await app.inject({ method: 'GET', url: '/things/conflict' })).json()).toMatchObject({ holder: 'x' });
  });

  it('rejects tokens for another audience or signed by another key', async () => {
    const verify = await createTokenVerifier({ publicKeys: tokens.publicKeys, issuer: tokens.issuer, audience: 'someone-else' });
    await expect(verify(await tokens.tokenFor({ id: 'u', email: 'u@example.com' }))).rejects.toThrow();
    const otherKeys = createTestTokens();
    const ours = await createTokenVerifier(tokens);
    await expect(ours(await otherKeys.tokenFor({ id: 'u', email: 'u@example.com' }))).rejects.toThrow();
  });

  it('reports readiness from its checks and liveness regardless', async () => {
    healthy = true;
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).json()).toEqual({ status: 'ready', checks: { dependency: 'ok' } });
    healthy = false;
    const notReady = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: 'not-ready', checks: { dependency: 'dependency down' } });
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
  });

  it('serves its OpenAPI 3.1 document under the prefix', async () => {
    const response = await app.inject({ method: 'GET', url: '/things/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ openapi: '3.1.0', info: { title: 'test' } });
  });

  it('serves no Swagger UI unless switched on (SWAGGER_UI_ENABLED), and still has its OpenAPI document for the generator', async () => {
    const plain = await createHttpServer({ service: 'plain', version: '1.0.0', description: 'x', logger: createLogger('http-test', 'silent'), bodyLimit: 1_024, prefix: '/plain', readiness: [] });
    try {
      await plain.ready();
      expect((await plain.inject({ method: 'GET', url: '/plain/docs' })).statusCode).toBe(404);
      expect((await plain.inject({ method: 'GET', url: '/plain/docs/json' })).statusCode).toBe(404);
      expect(plain.swagger()).toMatchObject({ openapi: '3.1.0' });
    } finally {
      await plain.close();
    }
  });

  it('answers overload with 503 problem+json and Retry-After, and a saturated pool the same way, not with 500', async () => {
    const busy = await app.inject({ method: 'GET', url: '/things/busy' });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('7');
    expect(busy.headers['content-type']).toContain('application/problem+json');
    expect(busy.json()).toMatchObject({ status: 503, title: 'Service overloaded', detail: 'Too much waiting.', retryAfterSeconds: 7 });
    const pool = await app.inject({ method: 'GET', url: '/things/pool-exhausted' });
    expect(pool.statusCode).toBe(503);
    expect(pool.headers['retry-after']).toBe('1');
    expect(pool.json()).toMatchObject({ status: 503, type: 'https://arch.homework/problems/overloaded' });
  });
});
