import { importSPKI, jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpServer } from './http-server.js';
import { HttpProblem } from './problem.js';

/** Access tokens are signed by user-service with Ed25519; the others only hold the public key. */
export const tokenAlgorithm = 'EdDSA';

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
  publicKeyPem: string;
  issuer: string;
  audience: string;
}

export type TokenVerifier = (token: string) => Promise<AuthenticatedUser>;

export async function createTokenVerifier(options: TokenVerifierOptions): Promise<TokenVerifier> {
  const key: CryptoKey | KeyObject = await importSPKI(options.publicKeyPem, tokenAlgorithm);
  return async (token) => {
    const { payload } = await jwtVerify(token, key, {
      issuer: options.issuer,
      audience: options.audience,
      algorithms: [tokenAlgorithm],
    });
    if (typeof payload.sub !== 'string' || typeof payload['email'] !== 'string') {
      throw new Error('token lacks subject or email');
    }
    return { id: payload.sub, email: payload['email'] };
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
    } catch {
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
    routes(scope as unknown as HttpServer);
  });
}
