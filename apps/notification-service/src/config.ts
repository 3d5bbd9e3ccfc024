import { Type, type Static } from 'typebox';
import { preferWaitConfigSchema } from '@eventflow/http';
import { commonConfigSchema, loadConfig } from '@eventflow/platform';

// Notification publishes no events, so the outbox settings are not read.
const { OUTBOX_BATCH_SIZE: _batch, OUTBOX_POLL_INTERVAL_MS: _poll, ...common } = commonConfigSchema;

export const notificationConfigSchema = Type.Object({
  ...common,
  PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 3004 }),
  ...preferWaitConfigSchema,
  RECIPIENT_WAIT_MS: Type.Integer({
    minimum: 0,
    maximum: 600_000,
    default: 30_000,
    description: "How long an order outcome for a user whose UserCreated has not arrived yet is retried before it is dead-lettered",
  }),
});

export type NotificationConfig = Static<typeof notificationConfigSchema>;

export const loadNotificationConfig = (env: Record<string, string | undefined> = process.env): NotificationConfig =>
  loadConfig('notification-service', notificationConfigSchema, env);
