import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';

export interface TestTokens {
  publicKeyPem: string;
  issuer: string;
  audience: string;
  /** A valid access token for the user. */
  tokenFor: (user: { id: string; email: string }, options?: { expiresIn?: string }) => Promise<string>;
}

/** A throwaway Ed25519 key pair and a signer, so HTTP tests can authenticate like user-service's tokens. */
export function createTestTokens(): TestTokens {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const issuer = 'eventflow-user-service';
  const audience = 'eventflow';
  return {
    publicKeyPem: publicKey,
    issuer,
    audience,
    tokenFor: async (user, options = {}) =>
      new SignJWT({ email: user.email })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject(user.id)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(await importPKCS8(privateKey, 'EdDSA')),
  };
}
