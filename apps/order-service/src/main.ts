import { topics } from '@eventflow/events';
import { createTokenVerifier } from '@eventflow/http';
import { HttpProblem } from '@eventflow/http';
import { AdmissionControl, Messaging, runService } from '@eventflow/messaging';
import { createLogger, startTracing } from '@eventflow/platform';
import { NotificationListener } from '@eventflow/platform/db';
import { buildApp } from './app.js';
import { Orders, orderSettledChannel } from './application/orders.js';
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

// One LISTEN connection for every GET /orders/{id} with Prefer: wait in this process.
const settlements = new NotificationListener({ connectionString: config.DATABASE_URL, channel: orderSettledChannel, logger });
await settlements.start();

const app = await buildApp({
  logger,
  orders,
  verifyToken: await createTokenVerifier({ publicKeyPem: config.JWT_PUBLIC_KEY, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
  readiness: messaging.readinessChecks(),
  bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
  wait: { listener: settlements, maxSeconds: config.PREFER_WAIT_MAX_SECONDS },
});
// Past a backlog in the order flow, new orders are refused at once instead of queueing without bound.
const admission = new AdmissionControl({
  admin: messaging.kafka.admin(),
  outboxBacklog: () => messaging.relay?.backlog() ?? Promise.resolve({ oldestAgeMs: 0 }),
  groups: [
    // The consumers an order passes through before it is settled (their group ids are the services' names).
    { groupId: 'billing-service', topics: [topics.orderEvents] },
    { groupId: orderConsumerGroup, topics: [topics.paymentEvents] },
    { groupId: 'notification-service', topics: [topics.orderEvents] },
  ],
  maxBacklogMs: config.ADMISSION_MAX_BACKLOG_MS,
  refreshMs: 1_000,
  logger: logger.child({ component: 'admission' }),
});
app.addHook('onRequest', async (request) => {
  if (request.method !== 'POST' || request.routeOptions.url !== '/orders') return;
  const verdict = admission.check();
  if (!verdict.admit) throw HttpProblem.overloaded(`Not accepting new orders for now: ${verdict.reason}.`, verdict.retryAfterSeconds ?? 1);
});
admission.start();
// A placed order is published at once instead of at the next poll.
app.addHook('onResponse', async (request) => {
  if (request.method === 'POST') messaging.relay?.nudge();
});

await runService({ logger, messaging, app, db, tracing, config });
