import { importSPKI, jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

/** A preHandler that admits only requests with a valid bearer token and sets request.user. */
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
