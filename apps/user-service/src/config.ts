import { Type, type Static } from 'typebox';
import { commonConfigSchema, loadConfig } from '@eventflow/platform';

export const userConfigSchema = Type.Object({
  ...commonConfigSchema,
  PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 3001 }),
  JWT_PRIVATE_KEY: Type.String({ minLength: 1, description: 'PEM (PKCS#8) Ed25519 private key that signs access tokens' }),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 60, maximum: 86_400, default: 3_600 }),
});

export type UserConfig = Static<typeof userConfigSchema>;

export const loadUserConfig = (env: Record<string, string | undefined> = process.env): UserConfig =>
  loadConfig('user-service', userConfigSchema, env);
