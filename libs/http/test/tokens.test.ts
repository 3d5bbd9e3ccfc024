import { X509Certificate, createHmac, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createTestTokens, waitFor, type TestTokens } from '@eventflow/testing';
import { authenticatedRoutes, callerOf, createHttpServer, createTokenVerifier, parsePublicKeySet, type TokenVerifier } from '../src/index.js';

const user = { id: '0b7d3c1e-56a8-4a53-9a5e-2f1f6d1f0c11', email: 'u@example.com' };
const current = createTestTokens();
const previous = createTestTokens();

const base64url = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => ({
  sub: user.id,
  email: user.email,
  iss: current.issuer,
  aud: current.audience,
  iat: now(),
  exp: now() + 300,
  ...overrides,
});

/** Signs whatever header and claims a test wants with the given pair (EdDSA). */
async function sign(keys: TestTokens, payload: Record<string, unknown>, header: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', ...header }).sign(createPrivateKey(keys.privateKeyPem));
}
const verifierFor = (...sets: TestTokens[]): Promise<TokenVerifier> =>
  createTokenVerifier({ publicKeys: sets.map((s) => s.publicKeys).join('\n'), issuer: current.issuer, audience: current.audience });

describe('access token verification', () => {
  it('accepts a token with every required claim, typ at+jwt and the kid of a key in the set', async () => {
    const verify = await verifierFor(current);
    await expect(verify(await current.tokenFor(user))).resolves.toEqual(user);
    await expect(verify(await sign(current, claims(), { typ: 'at+jwt', kid: current.keyId }))).resolves.toEqual(user);
  });

  it.each([
    ['exp', { exp: undefined }],
    ['iat', { iat: undefined }],
    ['sub', { sub: undefined }],
    ['iss', { iss: undefined }],
    ['aud', { aud: undefined }],
  ])('refuses a token without %s', async (_claim, overrides) => {
    const verify = await verifierFor(current);
    await expect(verify(await sign(current, claims(overrides), { typ: 'at+jwt', kid: current.keyId }))).rejects.toThrow();
  });

  it('refuses a wrong or missing typ (an ID token or any other JWT is not an access token)', async () => {
    const verify = await verifierFor(current);
    await expect(verify(await sign(current, claims(), { typ: 'JWT', kid: current.keyId }))).rejects.toThrow(/typ/);
    await expect(verify(await sign(current, claims(), { kid: current.keyId }))).rejects.toThrow(/typ/);
  });

  it('refuses an unknown or missing kid even when the signature would verify', async () => {
    const verify = await verifierFor(current);
    await expect(verify(await sign(current, claims(), { typ: 'at+jwt', kid: 'some-other-key' }))).rejects.toThrow(/kid/);
    await expect(verify(await sign(current, claims(), { typ: 'at+jwt' }))).rejects.toThrow(/kid/);
  });

  it('refuses alg none and an HS256 token whose secret is the public key', async () => {
    const verify = await verifierFor(current);
    const unsigned = `${base64url({ alg: 'none', typ: 'at+jwt', kid: current.keyId })}.${base64url(claims())}.`;
    await expect(verify(unsigned)).rejects.toThrow();
    const input = `${base64url({ alg: 'HS256', typ: 'at+jwt', kid: current.keyId })}.${base64url(claims())}`;
    const forged = `${input}.${createHmac('sha256', current.publicKeys).update(input).digest('base64url')}`;
    await expect(verify(forged)).rejects.toThrow(/alg/);
  });

  it('rotation: a token of the previous key is accepted while the set holds it, refused once it is removed', async () => {
    const oldToken = await previous.tokenFor(user);
    const duringRotation = await verifierFor(current, previous);
    await expect(duringRotation(oldToken)).resolves.toEqual(user);
    await expect(duringRotation(await current.tokenFor(user))).resolves.toEqual(user);
    const afterRotation = await verifierFor(current);
    await expect(afterRotation(oldToken)).rejects.toThrow(/kid/);
  });

  it('remembers a verified token only until its exp: then it is refused as when it was never seen', async () => {
    const verify = await verifierFor(current);
    const shortLived = await sign(current, claims({ exp: now() + 2 }), { typ: 'at+jwt', kid: current.keyId });
    await expect(verify(shortLived)).resolves.toEqual(user);
    await expect(verify(shortLived)).resolves.toEqual(user);
    const refusal = await waitFor(
      'the remembered token to be refused after its exp',
      () => verify(shortLived).then(() => undefined, (error: unknown) => error as Error),
      { timeoutMs: 4_000, intervalMs: 50 },
    );
    expect(refusal.message).toMatch(/exp/);
  });

  it('answers only the very token that verified from memory: another signature on the same claims is refused', async () => {
    const verify = await verifierFor(current);
    const token = await current.tokenFor(user);
    await expect(verify(token)).resolves.toEqual(user);
    const [header, payload, signature = ''] = token.split('.');
    const middle = Math.floor(signature.length / 2);
    const tampered = `${header}.${payload}.${signature.slice(0, middle)}${signature[middle] === 'A' ? 'B' : 'A'}${signature.slice(middle + 1)}`;
    await expect(verify(tampered)).rejects.toThrow(/signature/);
    await expect(verify(await sign(previous, claims(), { typ: 'at+jwt', kid: current.keyId }))).rejects.toThrow(/signature/);
    await expect(verify(token)).resolves.toEqual(user);
  });

  it('reads a certificate in the set as its public key (the chart generates one) and refuses anything else', async () => {
    const certificatePem = readFileSync(new URL('./fixtures/helm-generated-jwt-cert.txt', import.meta.url), 'utf8');
    const keys = await parsePublicKeySet(certificatePem);
    expect([...keys.values()][0]?.equals(new X509Certificate(certificatePem).publicKey)).toBe(true);
    await expect(parsePublicKeySet(current.privateKeyPem)).rejects.toThrow(/PRIVATE KEY/);
    await expect(parsePublicKeySet('')).rejects.toThrow(/no PEM/);
  });

  it('answers 401 problem+json over HTTP for a refused token', async () => {
    const app = await createHttpServer({
      service: 'test',
      version: '1.0.0',
      description: 'test',
      logger: createLogger('tokens-test', 'silent'),
      bodyLimit: 1_024,
      prefix: '/t',
      readiness: [],
    });
    authenticatedRoutes(app, await verifierFor(current), (scope) => scope.get('/t/me', async (request) => ({ id: callerOf(request).id })));
    const get = (token: string) => app.inject({ method: 'GET', url: '/t/me', headers: { authorization: `Bearer ${token}` } });
    expect((await get(await current.tokenFor(user))).json()).toEqual({ id: user.id });
    const refused = await get(await sign(current, claims({ exp: undefined }), { typ: 'at+jwt', kid: current.keyId }));
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    await app.close();
  });
});
