import { createTokenVerifier } from '@eventflow/http';
import { Messaging, runService } from '@eventflow/messaging';
import { createLogger, startTracing } from '@eventflow/platform';
import { buildApp } from './app.js';
import { createTokenIssuer } from './application/tokens.js';
import { Users } from './application/users.js';
import { loadUserConfig } from './config.js';
import { createDb, type Tx } from './persistence/prisma.js';

const service = 'user-service';
const tracing = startTracing(service);
const config = loadUserConfig();
const logger = createLogger(service, config.LOG_LEVEL);
const db = createDb(config.DATABASE_URL);
const issueToken = await createTokenIssuer({
  privateKeyPem: config.JWT_PRIVATE_KEY,
  issuer: config.JWT_ISSUER,
  audience: config.JWT_AUDIENCE,
  ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
});
const users = new Users(db, service, issueToken);

const messaging = new Messaging<Tx>({
  service,
  brokers: config.KAFKA_BROKERS,
  schemaRegistryUrl: config.SCHEMA_REGISTRY_URL,
  logger,
  db,
  outbox: { pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS, batchSize: config.OUTBOX_BATCH_SIZE, lockKey: 0x05e7, publishes: ['UserCreated'] },
});

const app = await buildApp({
  logger,
  users,
  verifyToken: await createTokenVerifier({ publicKeyPem: config.JWT_PUBLIC_KEY, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE }),
  readiness: messaging.readinessChecks(),
  bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
});
app.addHook('onResponse', async (request) => {
  if (request.method === 'POST') messaging.relay?.nudge();
});

await runService({ logger, messaging, app, db, tracing, config });
