import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';

/**
 * Access tokens: Ed25519 signatures (JWS "EdDSA"), media type `at+jwt` (RFC 9068) in the `typ`
 * header, and the signing key's id in `kid`.
 */
export const tokenAlgorithm = 'EdDSA';
export const accessTokenType = 'at+jwt';

/**
 * A key's id is its RFC 7638 JWK thumbprint (SHA-256, base64url): derived from the public key
 * itself, so the signer and every verifier agree on it without a setting that could disagree.
 */
export async function keyIdOf(publicKey: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
}

const pemBlock = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/**
 * Parses a key set: one or more PEM blocks, each an SPKI public key (`PUBLIC KEY`) or an X.509
 * certificate (`CERTIFICATE`, whose public key is taken; the Helm chart makes one when it
 * generates the pair, since Helm can derive a certificate but not a bare public key). The set
 * holds the current key and, during a rotation, the previous ones. Returns the keys by id.
 */
export async function parsePublicKeySet(pem: string): Promise<Map<string, KeyObject>> {
  const keys = new Map<string, KeyObject>();
  for (const [block, label] of pem.matchAll(pemBlock)) {
    let key: KeyObject;
    if (label === 'PUBLIC KEY') key = createPublicKey(block);
    else if (label === 'CERTIFICATE') key = new X509Certificate(block).publicKey;
    else throw new Error(`the key set holds a "${label}" PEM block; only PUBLIC KEY and CERTIFICATE belong in it`);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the key set holds a ${key.asymmetricKeyType} key; access tokens are verified with Ed25519 keys only`);
    keys.set(await keyIdOf(key), key);
  }
  if (keys.size === 0) throw new Error('the key set holds no PEM public key or certificate');
  return keys;
}
