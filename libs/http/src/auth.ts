import { errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from './http-server.js';
import { accessTokenType, parsePublicKeySet, tokenAlgorithm } from './keys.js';
import { HttpProblem } from './problem.js';
import { perUserLimiters } from './rate-limit.js';

export { accessTokenType, keyIdOf, parsePublicKeySet, tokenAlgorithm } from './keys.js';

export interface AuthenticatedUser {
  id: string;
  email: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    user?: AuthenticatedUser;
  }
}

export interface TokenVerifierOptions {
  /** The key set (JWT_PUBLIC_KEYS): PEM public keys or certificates, the current one and any still accepted. */
  publicKeys: string;
  issuer: string;
  audience: string;
  /** How many verified tokens are remembered until their expiry (default 1,000; 0: verify every time). See createTokenVerifier. */
  cacheSize?: number;
}

export type TokenVerifier = (token: string) => Promise<AuthenticatedUser>;

/** The claims every access token must carry; jose checks exp/nbf/iss/aud values, this makes them mandatory. */
const requiredClaims = ['exp', 'iat', 'sub', 'iss', 'aud'];

/**
 * Verifies access tokens: EdDSA only (so `alg: none` and an HS256 token "signed" with the public
 * key as a secret are refused before any key is used), `typ: at+jwt`, a `kid` naming a key of the
 * set, and the required claims. Rotation: the set holds the new and the previous public key while
 * tokens of the previous one may still be alive; removing it later ends them.
 *
 * A client sends the same token with every request for its lifetime, and verifying it (an Ed25519
 * signature and the claims) was about a tenth of POST /orders' CPU (scripts/bench/placement.ts). So
 * the last `cacheSize` tokens that verified are remembered, keyed by the whole token string, until
 * their `exp`. That answers exactly as verifying again would: the verdict depends only on the
 * token's bytes (the signature covers header and claims, so only the very same string hits), the
 * key set (fixed for the life of the process: a rotation that removes a key restarts the
 * services) and the clock, of which only `exp` can turn a valid token invalid later (checked on
 * every hit, as jose compares it: expired once the current second reaches `exp`). Access tokens
 * have no revocation list to miss. Refused tokens are never remembered, so only tokens
 * user-service signed can enter, and the oldest entry leaves first (about 1 kB each).
 */
export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const keys = await parsePublicKeySet(options.publicKeys);
  const keyFor = (header: JWTHeaderParameters) => {
    if (!header.kid) throw new errors.JWSInvalid('the token header has no kid');
    const key = keys.get(header.kid);
    if (!key) throw new errors.JWKSNoMatchingKey(`no key with kid ${header.kid} in the key set`);
    return key;
  };
  const cacheSize = options.cacheSize ?? 1_000;
  const verified = new Map<string, { user: AuthenticatedUser; expiresAtMs: number }>();
  return async (token) => {
    const remembered = verified.get(token);
    if (remembered) {
      if (Date.now() < remembered.expiresAtMs) return remembered.user;
      verified.delete(token);
    }
    const { payload } = await jwtVerify(token, keyFor, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [tokenAlgorithm],
      typ: accessTokenType,
      requiredClaims,
    });
    if (typeof payload.sub !== 'string' || typeof payload['email'] !== 'string') {
      throw new Error('token lacks subject or email');
    }
    const user: AuthenticatedUser = Object.freeze({ id: payload.sub, email: payload['email'] });
    if (cacheSize > 0 && typeof payload.exp === 'number') {
      if (verified.size >= cacheSize) verified.delete(verified.keys().next().value as string);
      verified.set(token, { user, expiresAtMs: payload.exp * 1000 });
    }
    return user;
  };
}

/** A hook that admits only requests with a valid bearer token and sets request.user. */
export function requireUser(verify: TokenVerifier) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    const match = header?.match(/^Bearer\s+(\S+)$/i);
    if (!match?.[1]) throw HttpProblem.unauthorized('A bearer access token is required (Authorization: Bearer <token>).');
    try {
      request.user = await verify(match[1]);
    } catch (error) {
      // Why it was refused helps whoever debugs a client; the token itself is never logged.
      request.log.debug({ reason: (error as Error).message }, 'access token refused');
      throw HttpProblem.unauthorized('The access token is invalid or expired.');
    }
  };
}

/** The authenticated caller; routes behind requireUser may rely on it. */
export function callerOf(request: FastifyRequest): AuthenticatedUser {
  if (!request.user) throw HttpProblem.unauthorized('Not authenticated.');
  return request.user;
}

/**
 * Registers `routes` in an encapsulated scope whose every request must carry a valid bearer
 * token. The check runs on request, before the body is parsed and validated, so an anonymous
 * request gets 401 and never a 400 that describes the schema. Shared schemas (addSchema) belong
 * on `app`, outside the scope, so the OpenAPI document lists them.
 */
export function authenticatedRoutes(app: HttpServer, verify: TokenVerifier, routes: (scope: HttpServer) => void): void {
  // The scope is the same kind of instance as `app` (logger, type provider); register() types it loosely.
  void app.register(async (scope) => {
    scope.addHook('onRequest', requireUser(verify));
    // After authentication, so the per-user limit counts the verified user, never a claimed one.
    const perUser = perUserLimiters.get(app);
    if (perUser) scope.addHook('onRequest', perUser.consume);
    routes(scope as unknown as HttpServer);
  });
}
