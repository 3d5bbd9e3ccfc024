import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ensureJwtKeys } from '@eventflow/system-harness';
import { ed25519KeyId } from '@eventflow/testing';
import { api, newUser } from './support.js';

// The HTTP edge of the running system under abuse: rate limits, the bound on password hashing,
// and access tokens that must be refused. Client addresses are documentation addresses given in
// X-Forwarded-For, which the services believe only from their trusted proxy (here the local
// gateway on loopback, as the ingress controller in the cluster); a fresh IPv6 one per run keeps
// runs apart in the shared counters.
const userServicePort = 3001;
const clientAddress = () => `2001:db8:${randomBytes(6).toString('hex').match(/.{4}/g)?.join(':')}::1`;
const login = (from: string, body: { email: string; password: string }) =>
  api()<{ accessToken?: string; retryAfterSeconds?: number; status?: number }>('POST', '/auth/login', { body, headers: { 'x-forwarded-for': from } });

async function probeReady(): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${userServicePort}/health/ready`);
  await response.arrayBuffer();
  return { status: response.status, ms: performance.now() - started };
}

describe('rate limits on the running system', () => {
  it('200 wrong passwords from one address: 429 past the limit, the owner still logs in from another address, readiness stays 200', { timeout: 120_000 }, async () => {
    const owner = await newUser();
    const credentials = { email: owner.email, password: 'correct horse battery' };
    const attacker = clientAddress();
    const statuses: number[] = [];
    const probes: Array<{ status: number; ms: number }> = [];
    let ownerMidway: number | undefined;
    // 25 rounds of 8 concurrent guesses, a readiness probe with each round.
    for (let round = 0; round < 25; round += 1) {
      const guesses = Array.from({ length: 8 }, (_, i) => login(attacker, { ...credentials, password: `wrong guess ${round}-${i}` }));
      const [probe, ...answers] = await Promise.all([probeReady(), ...guesses]);
      probes.push(probe);
      statuses.push(...answers.map((a) => a.status));
      if (round === 12) ownerMidway = (await login(clientAddress(), credentials)).status;
    }
    expect(statuses).toHaveLength(200);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const letThrough = statuses.filter((s) => s === 401).length;
    expect(letThrough).toBeGreaterThan(0);
    expect(letThrough).toBeLessThanOrEqual(10); // LOGIN_ATTEMPTS_PER_IP of npm start and the chart
    expect(ownerMidway).toBe(200);
    expect(probes.every((p) => p.status === 200)).toBe(true);

    const refused = await login(attacker, credentials);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('ratelimit-limit'))).toBe(letThrough);
    expect(refused.body).toMatchObject({ status: 429, title: 'Too many requests' });
    expect((await login(clientAddress(), credentials)).status).toBe(200);

    // Audit: failed logins and refusals are counted.
    const metrics = await (await fetch(`http://127.0.0.1:${userServicePort}/metrics`)).text();
    expect(metrics).toMatch(/eventflow_audit_events_total\{event="login_failed",reason="wrong-password"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/eventflow_audit_events_total\{event="rate_limited",reason="login-ip"[^}]*\} [1-9]/);
  });

  it('past the argon2 bound, logins get 503 with Retry-After at once while readiness stays 200', { timeout: 60_000 }, async () => {
    // Many clients at once, each under its own limit: only the hashing bound can refuse them.
    const attempts = Array.from({ length: 48 }, () => login(clientAddress(), { email: `nobody-${randomUUID()}@example.com`, password: 'whatever long' }));
    const [probe, ...answers] = await Promise.all([probeReady(), ...attempts]);
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 401 && s !== 503)).toEqual([]);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    const busy = answers.find((a) => a.status === 503);
    expect(busy?.headers.get('retry-after')).toBe('1');
    expect(busy?.headers.get('content-type')).toContain('application/problem+json');
    expect(probe.status).toBe(200);
  });
});

describe('access tokens the running services refuse', () => {
  it('missing exp, wrong typ, unknown kid, alg none and HS256 with the public key: 401 problem+json; the real token: 200', { timeout: 60_000 }, async () => {
    const user = await newUser();
    const keys = ensureJwtKeys();
    const kid = ed25519KeyId(keys.publicKey);
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, email: user.email, iss: 'eventflow-user-service', aud: 'eventflow', iat: now, exp: now + 300 };
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    // A JWS with EdDSA (RFC 8037), built by hand so any header and claims can be tried.
    const signed = async (payload: Record<string, unknown>, header: Record<string, unknown>, privateKey = keys.privateKey) => {
      const input = `${b64({ alg: 'EdDSA', ...header })}.${b64(payload)}`;
      return `${input}.${sign(null, Buffer.from(input), createPrivateKey(privateKey)).toString('base64url')}`;
    };
    const hs256Input = `${b64({ alg: 'HS256', typ: 'at+jwt', kid })}.${b64(claims)}`;
    const other = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const { exp: _exp, ...withoutExp } = claims;

    const cases: Record<string, string> = {
      'missing exp': await signed(withoutExp, { typ: 'at+jwt', kid }),
      'wrong typ': await signed(claims, { typ: 'JWT', kid }),
      'unknown kid (another key)': await signed(claims, { typ: 'at+jwt', kid: ed25519KeyId(other.publicKey) }, other.privateKey),
      'no kid': await signed(claims, { typ: 'at+jwt' }),
      'alg none': `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(claims)}.`,
      'HS256 with the public key as secret': `${hs256Input}.${createHmac('sha256', keys.publicKey).update(hs256Input).digest('base64url')}`,
    };
    // The control: the same claims, signed as user-service signs, are accepted.
    expect((await api()('GET', '/users/me', { token: await signed(claims, { typ: 'at+jwt', kid }) })).status).toBe(200);
    for (const [name, token] of Object.entries(cases)) {
      for (const path of ['/users/me', '/billing/accounts/me', '/orders']) {
        const response = await api()('GET', path, { token });
        expect(response.status, `${name} on ${path}`).toBe(401);
        expect(response.headers.get('content-type'), `${name} on ${path}`).toContain('application/problem+json');
      }
    }
  });
});
