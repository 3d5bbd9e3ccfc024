import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, type HttpServer } from '@eventflow/http';
import { createLogger } from '@eventflow/platform';
import { scratchDatabase } from '@eventflow/testing';
import { buildApp } from '../src/app.js';
import { createTokenIssuer } from '../src/application/tokens.js';
import { HashingSlots, Users } from '../src/application/users.js';
import { createDb, type Db } from '../src/persistence/prisma.js';
import { postgresRateLimitCounter } from '../src/persistence/rate-limits.js';

// The edge of user-service on the real PostgreSQL: shared rate-limit counters, the limits on
// login and registration, and the bound on password hashing.
const database = await scratchDatabase(fileURLToPath(new URL('../prisma/migrations', import.meta.url)));
const db: Db = createDb(database.url);
const keys = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
const tokenSettings = { issuer: 'eventflow-user-service', audience: 'eventflow' };
const limits = { loginAttemptsPerIp: 5, loginFailuresPerEmail: 8, registrationsPerIp: 3 };

/** One user-service instance on the shared database (several = replicas). */
async function instance(hashing: HashingSlots): Promise<HttpServer> {
  const issueToken = await createTokenIssuer({ privateKeyPem: keys.privateKey, publicKeys: keys.publicKey, ttlSeconds: 60, ...tokenSettings });
  return buildApp({
    logger: createLogger('user-edge-test', 'silent'),
    users: new Users(db, 'user-service', issueToken, hashing),
    verifyToken: await createTokenVerifier({ publicKeys: keys.publicKey, ...tokenSettings }),
    readiness: [],
    bodyLimit: 16_384,
    http: { edge: { trustedProxies: ['127.0.0.1'], rateLimitExemptAddresses: [], userRequestsPerMinute: 0 } },
    rateLimits: { ...limits, counter: postgresRateLimitCounter(db) },
  });
}

let replicaA: HttpServer;
let replicaB: HttpServer;
const address = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
const email = () => `edge-${randomUUID()}@example.com`;
const login = (app: HttpServer, from: string, body: { email: string; password: string }) =>
  app.inject({ method: 'POST', url: '/auth/login', headers: { 'x-forwarded-for': from }, payload: body });

beforeAll(async () => {
  replicaA = await instance(new HashingSlots(2, 8));
  replicaB = await instance(new HashingSlots(2, 8));
});
afterAll(async () => {
  await replicaA.close();
  await replicaB.close();
  await db.$disconnect();
  await database.drop();
});

describe('shared rate-limit counter (PostgreSQL)', () => {
  it('counts one window per key for every replica, starts a new one when it ends, and reads without counting', async () => {
    const one = postgresRateLimitCounter(db);
    const other = postgresRateLimitCounter(db);
    const key = `test:${randomUUID()}`;
    expect((await one.increment(key, 60_000)).count).toBe(1);
    expect((await other.increment(key, 60_000)).count).toBe(2);
    const read = await one.read(key, 60_000);
    expect(read.count).toBe(2);
    expect(read.resetInMs).toBeGreaterThan(50_000);
    expect((await other.read(key, 60_000)).count).toBe(2);
    const short = `test:${randomUUID()}`;
    await one.increment(short, 1);
    // A 1 ms window: bounded polling until it has expired, not a fixed sleep.
    await expect.poll(async () => (await other.read(short, 1)).count, { timeout: 2_000, message: 'the 1 ms window never expired' }).toBe(0);
    expect((await other.increment(short, 60_000)).count).toBe(1);
  });
});

describe('login and registration limits', () => {
  it('refuses a client address past the login limit on any replica, while the owner logs in from elsewhere', async () => {
    const owner = { email: email(), password: 'right password' };
    expect((await replicaA.inject({ method: 'POST', url: '/users', headers: { 'x-forwarded-for': address() }, payload: { ...owner, name: 'Owner' } })).statusCode).toBe(201);
    const attacker = '198.51.100.7';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await login(i % 2 ? replicaA : replicaB, attacker, { ...owner, password: `wrong guess ${i}` })).statusCode);
    expect(statuses).toEqual([...Array(limits.loginAttemptsPerIp).fill(401), ...Array(12 - limits.loginAttemptsPerIp).fill(429)]);
    const refused = await login(replicaA, attacker, owner);
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.headers).toMatchObject({ 'ratelimit-limit': String(limits.loginAttemptsPerIp), 'ratelimit-remaining': '0' });
    expect((await login(replicaB, '198.51.100.8', owner)).statusCode).toBe(200);
  });

  it('refuses an e-mail after its failed logins from many addresses, even with the right password, and counts nothing else', async () => {
    const owner = { email: email(), password: 'right password' };
    await replicaA.inject({ method: 'POST', url: '/users', headers: { 'x-forwarded-for': address() }, payload: { ...owner, name: 'Owner' } });
    expect((await login(replicaA, address(), owner)).statusCode).toBe(200);
    for (let i = 0; i < limits.loginFailuresPerEmail; i += 1) {
      expect((await login(i % 2 ? replicaA : replicaB, `192.0.2.${i + 1}`, { ...owner, password: `wrong guess ${i}` })).statusCode).toBe(401);
    }
    const locked = await login(replicaB, '192.0.2.200', owner);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ status: 429, detail: expect.stringContaining('login-email') });
  });

  it('refuses registrations from one address past its limit', async () => {
    const from = '198.51.100.20';
    const statuses: number[] = [];
    for (let i = 0; i < limits.registrationsPerIp + 1; i += 1) {
      statuses.push((await replicaB.inject({ method: 'POST', url: '/users', headers: { 'x-forwarded-for': from }, payload: { email: email(), password: 'long enough', name: 'R' } })).statusCode);
    }
    expect(statuses).toEqual([...Array(limits.registrationsPerIp).fill(201), 429]);
  });

  it('counts failed logins and rate-limit refusals in /metrics', async () => {
    const metrics = (await replicaA.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/eventflow_audit_events_total\{event="login_failed",reason="wrong-password"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/eventflow_audit_events_total\{event="rate_limited",reason="login-ip"[^}]*\} [1-9]/);
  });
});

describe('bounded password hashing', () => {
  it('past the slots and the queue, answers 503 with Retry-After at once, while other routes keep answering', async () => {
    const app = await instance(new HashingSlots(1, 1));
    try {
      const logins = Array.from({ length: 8 }, (_, i) => login(app, `203.0.113.${100 + i}`, { email: email(), password: 'whatever long' }));
      const health = await app.inject({ method: 'GET', url: '/health/live' });
      expect(health.statusCode).toBe(200);
      const answers = await Promise.all(logins);
      const statuses = answers.map((a) => a.statusCode);
      // Those that got the slot or the queue place: 401 (unknown e-mails); those that arrived
      // while both were taken: 503 at once, never a wait.
      expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
      expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
      expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(1);
      const busy = answers.find((a) => a.statusCode === 503);
      expect(busy?.headers['retry-after']).toBe('1');
      expect(busy?.headers['content-type']).toContain('application/problem+json');
    } finally {
      await app.close();
    }
  });
});
