import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, type HttpServer, type TokenVerifier } from '@eventflow/http';
import { createLogger } from '@eventflow/platform';
import { scratchDatabase } from '@eventflow/testing';
import { generateKeyPairSync } from 'node:crypto';
import { buildApp } from '../src/app.js';
import { createTokenIssuer } from '../src/application/tokens.js';
import { EmailTakenError, InvalidCredentialsError, Users } from '../src/application/users.js';
import { createDb, type Db } from '../src/persistence/prisma.js';

// A migrated scratch database on the real PostgreSQL; no Kafka needed at this level.
const database = await scratchDatabase(fileURLToPath(new URL('../prisma/migrations', import.meta.url)));
const db: Db = createDb(database.url);
const keys = generateKeyPairSync('ed25519', {
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const issuerOptions = { issuer: 'eventflow-user-service', audience: 'eventflow' };
let users: Users;
let verify: TokenVerifier;
let app: HttpServer;
const context = { correlationId: 'test' };
const email = () => `User-${randomUUID()}@Example.com`;

beforeAll(async () => {
  users = new Users(db, 'user-service', await createTokenIssuer({ privateKeyPem: keys.privateKey, publicKeys: keys.publicKey, ttlSeconds: 60, ...issuerOptions }));
  verify = await createTokenVerifier({ publicKeys: keys.publicKey, ...issuerOptions });
  app = await buildApp({ logger: createLogger('user-test', 'silent'), users, verifyToken: verify, readiness: [], bodyLimit: 16_384 });
});
afterAll(async () => {
  await app.close();
  await db.$disconnect();
  await database.drop();
});

describe('users on PostgreSQL', () => {
  it('registers a user with a lower-cased e-mail and writes UserCreated in the same transaction', async () => {
    const address = email();
    const user = await users.register({ email: address, password: 'long enough', name: '  Ada  King ' }, context);
    expect(user).toMatchObject({ email: address.toLowerCase(), name: 'Ada King' });
    const outbox = await db.$queryRaw<Array<{ event_type: string; key: string; payload: { email: string } }>>`
      SELECT event_type, key, payload FROM outbox_events WHERE key = ${user.id}`;
    expect(outbox).toEqual([expect.objectContaining({ event_type: 'UserCreated', key: user.id, payload: expect.objectContaining({ email: user.email }) })]);
    const stored = await db.user.findUniqueOrThrow({ where: { id: user.id } });
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it('refuses a second registration of the same address in another case, and writes no event for it', async () => {
    const address = email();
    await users.register({ email: address, password: 'long enough', name: 'A' }, context);
    await expect(users.register({ email: address.toUpperCase(), password: 'long enough', name: 'B' }, context)).rejects.toBeInstanceOf(EmailTakenError);
    const events = await db.$queryRaw<Array<{ count: bigint }>>`SELECT count(*) FROM outbox_events WHERE payload->>'email' = ${address.toLowerCase()}`;
    expect(Number(events[0]?.count)).toBe(1);
  });

  it('logs in with the right password only, and the token names the user', async () => {
    const address = email();
    const user = await users.register({ email: address, password: 'right password', name: 'A' }, context);
    const login = await users.login(address.toUpperCase(), 'right password');
    expect(await verify(login.accessToken)).toEqual({ id: user.id, email: user.email });
    await expect(users.login(address, 'wrong password')).rejects.toBeInstanceOf(InvalidCredentialsError);
    await expect(users.login(email(), 'right password')).rejects.toBeInstanceOf(InvalidCredentialsError);
  });
});

describe('users HTTP API', () => {
  it('registers (201), rejects a duplicate (409) and bad input (400), logs in (200) and reads only oneself', async () => {
    const address = email();
    const body = { email: address, password: 'long enough', name: 'Ada' };
    const created = await app.inject({ method: 'POST', url: '/users', payload: body });
    expect(created.statusCode).toBe(201);
    expect(created.json()).not.toHaveProperty('passwordHash');
    expect((await app.inject({ method: 'POST', url: '/users', payload: body })).statusCode).toBe(409);
    for (const bad of [{ ...body, email: 'not-an-email' }, { ...body, password: 'short' }, { ...body, name: '' }, { email: address }]) {
      const response = await app.inject({ method: 'POST', url: '/users', payload: bad });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: address, password: 'long enough' } });
    expect(login.statusCode).toBe(200);
    const auth = { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` };
    expect((await app.inject({ method: 'GET', url: '/users/me', headers: auth })).json()).toMatchObject({ email: address.toLowerCase() });
    expect((await app.inject({ method: 'GET', url: `/users/${randomUUID()}`, headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/auth/login', payload: { email: address, password: 'wrong password' } })).statusCode).toBe(401);
  });
});
