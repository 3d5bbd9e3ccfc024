import { createPrivateKey, createPublicKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { accessTokenType, keyIdOf, parsePublicKeySet, tokenAlgorithm } from '@eventflow/http';

export interface TokenIssuerOptions {
  privateKeyPem: string;
  /**
   * The key set the services verify with (JWT_PUBLIC_KEYS). The signing key's public half must be
   * in it, or every token issued would be refused: checked at start-up, not at the first request.
   */
  publicKeys: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Signs access tokens (RFC 9068 shape: typ at+jwt, kid, exp/iat/sub/iss/aud); only user-service holds the private key. */
export async function createTokenIssuer(options: TokenIssuerOptions): Promise<(user: { id: string; email: string }) => Promise<IssuedToken>> {
  const key = createPrivateKey(options.privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`JWT_PRIVATE_KEY is a ${key.asymmetricKeyType} key; access tokens are signed with Ed25519`);
  const kid = await keyIdOf(createPublicKey(key));
  if (!(await parsePublicKeySet(options.publicKeys)).has(kid)) {
    throw new Error(`the public key of JWT_PRIVATE_KEY (kid ${kid}) is not in JWT_PUBLIC_KEYS: its tokens would be refused`);
  }
  return async (user) => ({
    accessToken: await new SignJWT({ email: user.email })
      .setProtectedHeader({ alg: tokenAlgorithm, typ: accessTokenType, kid })
      .setSubject(user.id)
      .setIssuer(options.issuer)
      .setAudience(options.audience)
      .setIssuedAt()
      .setExpirationTime(`${options.ttlSeconds}s`)
      .sign(key),
    tokenType: 'Bearer',
    expiresIn: options.ttlSeconds,
  });
}
