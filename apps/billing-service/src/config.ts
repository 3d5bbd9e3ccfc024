import { Type, type Static } from 'typebox';
import { preferWaitConfigSchema } from '@eventflow/http';
import { commonConfigSchema, loadConfig } from '@eventflow/platform';

export const billingConfigSchema = Type.Object({
  ...commonConfigSchema,
  PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 3002 }),
  ...preferWaitConfigSchema,
  ACCOUNT_WAIT_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 30_000,
    description: 'How long an OrderPlaced for a user whose UserCreated has not arrived yet is retried before it fails with ACCOUNT_NOT_FOUND',
  }),
});

export type BillingConfig = Static<typeof billingConfigSchema>;

export const loadBillingConfig = (env: Record<string, string | undefined> = process.env): BillingConfig =>
  loadConfig('billing-service', billingConfigSchema, env);
