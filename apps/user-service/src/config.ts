import { Type, type Static } from 'typebox';
import { commonConfigSchema, loadConfig } from '@eventflow/platform';

// User-service consumes no events, so the consumer's batch size is not read.
const { CONSUMER_BATCH_SIZE: _batch, ...common } = commonConfigSchema;

export const userConfigSchema = Type.Object({
  ...common,
  PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 3001 }),
  JWT_PRIVATE_KEY: Type.String({ minLength: 1, description: 'PEM (PKCS#8) Ed25519 private key that signs access tokens; its public key must be in JWT_PUBLIC_KEYS' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86_400, default: 3_600 }),
  // Limits shared by every replica (counted in this service's database).
  LOGIN_ATTEMPTS_PER_IP: Type.Integer({ minimum: 1, default: 10, description: 'Login attempts per client address per minute' }),
  LOGIN_FAILURES_PER_EMAIL: Type.Integer({ minimum: 1, default: 30, description: 'Failed logins per e-mail address per 15 minutes, from any address' }),
  REGISTRATIONS_PER_IP: Type.Integer({ minimum: 1, default: 10, description: 'Registrations per client address per hour' }),
  // Password hashing is the one CPU-heavy step: bounded per process so health checks and other routes keep answering.
  ARGON2_MAX_CONCURRENT: Type.Integer({ minimum: 1, maximum: 64, default: 2, description: 'Argon2 hashes computed at once per process' }),
  ARGON2_MAX_QUEUE: Type.Integer({ minimum: 0, maximum: 1_000, default: 8, description: 'Logins/registrations that may wait for a hash slot; beyond, 503 + Retry-After' }),
});

export type UserConfig = Static<typeof userConfigSchema>;

export const loadUserConfig = (env: Record<string, string | undefined> = process.env): UserConfig =>
  loadConfig('user-service', userConfigSchema, env);
