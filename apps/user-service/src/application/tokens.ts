import { SignJWT, importPKCS8, type CryptoKey, type KeyObject } from 'jose';
import { tokenAlgorithm } from '@eventflow/http';

export interface TokenIssuerOptions {
  privateKeyPem: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

export interface IssuedToken {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

/** Signs access tokens; only user-service holds the private key. */
export async function createTokenIssuer(options: TokenIssuerOptions): Promise<(user: { id: string; email: string }) => Promise<IssuedToken>> {
  const key: CryptoKey | KeyObject = await importPKCS8(options.privateKeyPem, tokenAlgorithm);
  return async (user) => ({
    accessToken: await new SignJWT({ email: user.email })
      .setProtectedHeader({ alg: tokenAlgorithm, typ: 'JWT' })
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
