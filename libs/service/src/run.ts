import type { HttpServer, PreferWait, TokenVerifier } from '@eventflow/http';
import { HttpProblem, createTokenVerifier } from '@eventflow/http';
import { AdmissionControl, Messaging, type SqlExecutor } from '@eventflow/messaging';
import type { Logger } from '@eventflow/platform';
import { createLogger, splitList, startTracing, stopOnSignals } from '@eventflow/platform';
import { NotificationListener, createSqlDb, type SqlTx } from '@eventflow/platform/db';
import type { EventsDb, HttpSettings, ServiceConfig, ServiceDb, ServiceDefinition } from './definition.js';

/** The verifier of access tokens, from the settings every service shares. */
export const tokenVerifierFor = (config: ServiceConfig): Promise<TokenVerifier> =>
  createTokenVerifier({ publicKeys: config.JWT_PUBLIC_KEYS, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE });

/** The shared createHttpServer settings, from the config (none yet beyond the body limit, which AppDeps carries). */
export const httpSettingsFor = (config: ServiceConfig): HttpSettings => ({
  swaggerUi: config.SWAGGER_UI_ENABLED,
  edge: {
    trustedProxies: splitList(config.TRUSTED_PROXIES),
    rateLimitExemptAddresses: splitList(config.RATE_LIMIT_EXEMPT_ADDRESSES),
    userRequestsPerMinute: config.RATE_LIMIT_USER_PER_MINUTE,
  },
});

/** A service built but not started: nothing listens and Kafka is not connected yet. */
export interface AssembledService<C extends ServiceConfig, TX extends SqlExecutor, Db extends ServiceDb<TX>, Parts extends object> {
  config: C;
  logger: Logger;
  db: Db;
  parts: Parts;
  messaging: Messaging<SqlTx>;
  /** The Kafka side's pool (see ServiceDefinition.eventsDatabase). */
  eventsDb: EventsDb;
  app: HttpServer;
  admission: AdmissionControl | undefined;
}

/**
 * Builds a service from its definition and the validated config: logger, database, the Kafka side
 * (outbox relay, consumer, readiness checks), the Prefer: wait listener, the token verifier, the
 * HTTP app and the hooks every service shares (relay nudge, admission control). A new shared
 * setting or dependency is wired here once, not in each service.
 */
export async function assembleService<C extends ServiceConfig, TX extends SqlExecutor, Db extends ServiceDb<TX>, Parts extends object>(
  definition: ServiceDefinition<C, TX, Db, Parts>,
  env: Record<string, string | undefined> = process.env,
): Promise<AssembledService<C, TX, Db, Parts>> {
  const { name } = definition;
  const config = definition.loadConfig(env);
  const logger = createLogger(name, config.LOG_LEVEL);
  const db = definition.database(config.DATABASE_URL);
  const parts = await definition.parts({ name, config, db, logger });

  // The relay's and the consumer's transactions: raw SQL on a pool of their own (3 partitions in
  // parallel, the relay, pruning), not through the ORM.
  const eventsDb = (definition.eventsDatabase ?? ((url: string) => createSqlDb({ connectionString: url, max: 6, applicationName: name })))(config.DATABASE_URL);
  const messaging = new Messaging<SqlTx>({
    service: name,
    config,
    logger,
    db: eventsDb,
    ...(definition.publishes && { outbox: { lockKey: definition.publishes.lockKey, publishes: definition.publishes.events } }),
    ...(definition.consumes && { consumer: definition.consumes(parts, config) }),
  });

  let wait: PreferWait | undefined;
  if (definition.preferWait) {
    // One LISTEN connection for every request with Prefer: wait in this process.
    const listener = new NotificationListener({ connectionString: config.DATABASE_URL, channel: definition.preferWait.channel, logger });
    await listener.start();
    wait = { listener, maxSeconds: config.PREFER_WAIT_MAX_SECONDS ?? 0 };
  }

  const app = await definition.app({
    ...parts,
    logger,
    verifyToken: await tokenVerifierFor(config),
    readiness: messaging.readinessChecks(),
    bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
    http: httpSettingsFor(config),
    ...(wait && { wait }),
  });

  if (definition.publishes?.fromHttp) {
    // A write's event is published at once instead of at the relay's next poll.
    app.addHook('onResponse', async (request) => {
      if (request.method === 'POST') messaging.relay?.nudge();
    });
  }

  let admission: AdmissionControl | undefined;
  if (definition.admission) {
    const declared = definition.admission(config);
    const control = new AdmissionControl({
      admin: messaging.kafka.admin(),
      outboxBacklog: () => messaging.relay?.backlog() ?? Promise.resolve({ oldestAgeMs: 0 }),
      groups: declared.groups,
      maxBacklogMs: declared.maxBacklogMs,
      refreshMs: 1_000,
      logger: logger.child({ component: 'admission' }),
    });
    app.addHook('onRequest', async (request) => {
      if (request.method !== declared.route.method || request.routeOptions.url !== declared.route.url) return;
      const verdict = control.check();
      if (!verdict.admit) throw HttpProblem.overloaded(`Not accepting ${declared.what} for now: ${verdict.reason}.`, verdict.retryAfterSeconds ?? 1);
    });
    admission = control;
  }

  return { config, logger, db, eventsDb, parts, messaging, app, admission };
}

/**
 * Runs a service: HTTP first, so a (re)started instance answers within seconds, with
 * /health/ready saying "not ready" until the database, Kafka and the registry are reachable
 * (readiness is what gates traffic); then the Kafka side, whose consumer joins its group in the
 * background. Stops in reverse on SIGTERM: no new requests, then consumers and the outbox, then
 * the pools. A Kafka side that cannot start at all ends the process, for its supervisor to retry.
 */
export async function runService<C extends ServiceConfig, TX extends SqlExecutor, Db extends ServiceDb<TX>, Parts extends object>(
  definition: ServiceDefinition<C, TX, Db, Parts>,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const tracing = await startTracing(definition.name, env);
  const { config, logger, db, eventsDb, messaging, app, admission } = await assembleService(definition, env);
  await app.listen({ host: config.HOST, port: config.PORT });
  stopOnSignals(logger, config.SHUTDOWN_TIMEOUT_MS, [
    { name: 'http', run: () => app.close() },
    { name: 'admission', run: async () => admission?.stop() },
    { name: 'messaging', run: () => messaging.stop() },
    { name: 'database', run: () => db.$disconnect() },
    { name: 'events database', run: () => eventsDb.$disconnect() },
    { name: 'tracing', run: () => tracing.shutdown() },
  ]);
  admission?.start();
  await messaging.start();
}
