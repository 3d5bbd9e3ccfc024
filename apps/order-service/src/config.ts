import { Type, type Static } from 'typebox';
import { commonConfigSchema, loadConfig } from '@eventflow/platform';

export const orderConfigSchema = Type.Object({
  ...commonConfigSchema,
  PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 3003 }),
});

export type OrderConfig = Static<typeof orderConfigSchema>;

export const loadOrderConfig = (env: Record<string, string | undefined> = process.env): OrderConfig =>
  loadConfig('order-service', orderConfigSchema, env);
