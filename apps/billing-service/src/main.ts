import { topics } from '@eventflow/events';
import { createTokenVerifier } from '@eventflow/http';
import { Messaging, runService } from '@eventflow/messaging';
import { createLogger, startTracing } from '@eventflow/platform';
import { NotificationListener } from '@eventflow/platform/db';
import { buildApp } from './app.js';
import { Ledger } from './application/ledger.js';
import { loadBillingConfig } from './config.js';
import { billingConsumerGroup, billingHandlers } from './events/handlers.js';
import { paymentDecidedChannel } from './persistence/payments.js';
import { createDb, type Tx } from './persistence/prisma.js';

const service = 'billing-service';
const tracing = startTracing(service);
const config = loadBillingConfig();
const logger = createLogger(service, config.LOG_LEVEL);
const db = createDb(config.DATABASE_URL);
const ledger = new Ledger(db, { producer: service, accountWaitMs: config.ACCOUNT_WAIT_MS });

const messaging = new Messaging<Tx>({
  service,
  brokers: config.KAFKA_BROKERS,
  schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
  logger,
  db,
  outbox: { pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS, batchSize: config.OUTBOX_BATCH_SIZE, lockKey: 0x0b111, publishes: ['PaymentSucceeded', 'PaymentFailed'] },
  consumer: { groupId: billingConsumerGroup, topics: [topics.userEvents, topics.orderEvents], handlers: billingHandlers(ledger, service) },
});

// One LISTEN connection for every GET …/transactions?orderId= with Prefer: wait in this process.
const decisions = new NotificationListener({ connectionString: config.DATABASE_URL, channel: paymentDecidedChannel, logger });
await decisions.start();

const app = await buildApp({
  logger,
  ledger,
  verifyToken: await createTokenVerifier({ publicKeyPem: config.JWT_PUBLIC_KEY, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
  readiness: messaging.readinessChecks(),
  bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
  wait: { listener: decisions, maxSeconds: config.PREFER_WAIT_MAX_SECONDS },
});

await runService({ logger, messaging, app, db, tracing, config });
