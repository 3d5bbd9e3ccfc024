import { topics } from '@eventflow/events';
import { createTokenVerifier } from '@eventflow/http';
import { Messaging, runService } from '@eventflow/messaging';
import { createLogger, startTracing } from '@eventflow/platform';
import { buildApp } from './app.js';
import { Orders } from './application/orders.js';
import { loadOrderConfig } from './config.js';
import { orderConsumerGroup, orderHandlers } from './events/handlers.js';
import { createDb, type Tx } from './persistence/prisma.js';

const service = 'order-service';
const tracing = startTracing(service);
const config = loadOrderConfig();
const logger = createLogger(service, config.LOG_LEVEL);
const db = createDb(config.DATABASE_URL);
const orders = new Orders(db, service);

const messaging = new Messaging<Tx>({
  service,
  brokers: config.KAFKA_BROKERS,
  schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
  logger,
  db,
  outbox: { pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS, batchSize: config.OUTBOX_BATCH_SIZE, lockKey: 0x0de5, publishes: ['OrderPlaced', 'OrderPaid', 'OrderPaymentFailed'] },
  consumer: { groupId: orderConsumerGroup, topics: [topics.paymentEvents], handlers: orderHandlers(orders, service) },
});

const app = await buildApp({
  logger,
  orders,
  verifyToken: await createTokenVerifier({ publicKeyPem: config.JWT_PUBLIC_KEY, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
  readiness: messaging.readinessChecks(),
  bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
});
// A placed order is published at once instead of at the next poll.
app.addHook('onResponse', async (request) => {
  if (request.method === 'POST') messaging.relay?.nudge();
});

await runService({ logger, messaging, app, db, tracing, config });
