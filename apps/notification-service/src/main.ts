import { topics } from '@eventflow/events';
import { createTokenVerifier } from '@eventflow/http';
import { Messaging, runService } from '@eventflow/messaging';
import { createLogger, startTracing } from '@eventflow/platform';
import { NotificationListener } from '@eventflow/platform/db';
import { buildApp } from './app.js';
import { Mailbox, orderMessageChannel } from './application/mailbox.js';
import { loadNotificationConfig } from './config.js';
import { notificationConsumerGroup, notificationHandlers } from './events/handlers.js';
import { createDb, type Tx } from './persistence/prisma.js';

const service = 'notification-service';
const tracing = startTracing(service);
const config = loadNotificationConfig();
const logger = createLogger(service, config.LOG_LEVEL);
const db = createDb(config.DATABASE_URL);
const mailbox = new Mailbox(db, { recipientWaitMs: config.RECIPIENT_WAIT_MS });

const messaging = new Messaging<Tx>({
  service,
  brokers: config.KAFKA_BROKERS,
  schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
  logger,
  db,
  consumer: { groupId: notificationConsumerGroup, topics: [topics.userEvents, topics.orderEvents], handlers: notificationHandlers(mailbox) },
});

// One LISTEN connection for every GET /notifications/messages?orderId= with Prefer: wait in this process.
const stored = new NotificationListener({ connectionString: config.DATABASE_URL, channel: orderMessageChannel, logger });
await stored.start();

const app = await buildApp({
  logger,
  mailbox,
  verifyToken: await createTokenVerifier({ publicKeyPem: config.JWT_PUBLIC_KEY, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
  readiness: messaging.readinessChecks(),
  bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
  wait: { listener: stored, maxSeconds: config.PREFER_WAIT_MAX_SECONDS },
});

await runService({ logger, messaging, app, db, tracing, config });
