import { Type, type Static } from 'typebox';
import { preferWaitConfigSchema } from '@eventflow/http';
import { commonConfigSchema, loadConfig } from '@eventflow/platform';

export const orderConfigSchema = Type.Object({
  ...commonConfigSchema,
  PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 3003 }),
  ...preferWaitConfigSchema,
  ADMISSION_MAX_BACKLOG_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 3_000,
    description: 'New orders get 503 + Retry-After while the outbox or a consumer of the order flow is this far behind; 0 turns admission control off',
  }),
});

export type OrderConfig = Static<typeof orderConfigSchema>;

export const loadOrderConfig = (env: Record<string, string | undefined> = process.env): OrderConfig =>
  loadConfig('order-service', orderConfigSchema, env);
