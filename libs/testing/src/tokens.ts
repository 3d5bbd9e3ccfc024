import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';

export interface TestTokens {
  /** The key set a verifier is given (JWT_PUBLIC_KEYS): here the one public key. */
  publicKeys: string;
  /** The pair, for tests that sign malformed tokens themselves. */
  privateKeyPem: string;
  /** The key's id as user-service puts it in the `kid` header (RFC 7638 thumbprint). */
  keyId: string;
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
  const signingKey = createPrivateKey(privateKey);
  const keyId = ed25519KeyId(publicKey);
  return {
    publicKeys: publicKey,
    privateKeyPem: privateKey,
    keyId,
    issuer,
    audience,
    tokenFor: async (user, options = {}) =>
      new SignJWT({ email: user.email })
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: keyId })
        .setSubject(user.id)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? '5m')
        .sign(signingKey),
  };
}

/** RFC 7638 thumbprint of an Ed25519 public key (what @eventflow/http's keyIdOf computes), synchronously. */
export function ed25519KeyId(publicKeyPem: string): string {
  const { x } = createPublicKey(publicKeyPem).export({ format: 'jwk' });
  return createHash('sha256').update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x })).digest('base64url');
}
