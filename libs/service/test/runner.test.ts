import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { createHttpServer } from '@eventflow/http';
import type { SqlExecutor } from '@eventflow/messaging';
import { ConfigError, commonConfigSchema, loadConfig } from '@eventflow/platform';
import { assembleService, defineService, type AppDeps, type ServiceDb } from '../src/index.js';

// The runner is exercised without Kafka: nothing here starts the Kafka side, which the services'
// system tests cover. Broker and registry addresses point at a closed port.
const { publicKey } = generateKeyPairSync('ed25519', { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const env = {
  DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  KAFKA_BROKERS: '127.0.0.1:1',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1',
  JWT_PUBLIC_KEYS: publicKey,
  LOG_LEVEL: 'silent',
  HTTP_BODY_LIMIT_BYTES: '2048',
};

const schema = Type.Object({ ...commonConfigSchema, PORT: Type.Integer({ default: 3999 }) });
const { OUTBOX_BATCH_SIZE: _batch, OUTBOX_POLL_INTERVAL_MS: _poll, ...withoutOutbox } = commonConfigSchema;
const schemaWithoutOutbox = Type.Object({ ...withoutOutbox, PORT: Type.Integer({ default: 3999 }) });

/** A database that answers every query with one row (the runner only hands it on and checks it). */
const database = (): ServiceDb<SqlExecutor> => {
  const executor: SqlExecutor = { $queryRawUnsafe: async <T>() => [{ ok: 1 }] as T, $executeRawUnsafe: async () => 1 };
  return { ...executor, $transaction: (fn) => fn(executor), $disconnect: async () => undefined };
};

const greeter = defineService({
  name: 'greeter-service',
  loadConfig: (e) => loadConfig('greeter-service', schema, e),
  database,
  eventsDatabase: database,
  parts: ({ name, config }) => ({ greeting: `hello from ${name} on ${config.PORT}` }),
  app: async (deps: AppDeps & { greeting: string }) => {
    const app = await createHttpServer({ ...deps.http, service: 'greeter-service', version: '1', description: 'test', logger: deps.logger, bodyLimit: deps.bodyLimit, prefix: '/greeter', readiness: deps.readiness });
    app.get('/greeting', async () => ({ greeting: deps.greeting, bodyLimit: deps.bodyLimit, wait: deps.wait !== undefined }));
    return app;
  },
});

const closing: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closing) await close();
});

describe('assembleService', () => {
  it('refuses an environment that does not describe the service, naming what is missing', async () => {
    const { DATABASE_URL: _url, ...incomplete } = env;
    const error = await assembleService(greeter, incomplete).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join('\n')).toContain('DATABASE_URL');
  });

  it("builds the service's app from its parts and the validated config", async () => {
    const service = await assembleService(greeter, env);
    closing.push(() => service.app.close(), () => service.messaging.stop());
    const response = await service.app.inject({ method: 'GET', url: '/greeting' });
    expect(response.json()).toEqual({ greeting: 'hello from greeter-service on 3999', bodyLimit: 2048, wait: false });
    expect(service.admission).toBeUndefined();
  });

  it("reports the Kafka side's readiness: not ready until it is started", async () => {
    const service = await assembleService(greeter, env);
    closing.push(() => service.app.close(), () => service.messaging.stop());
    const response = await service.app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(503);
    const { checks } = response.json() as { checks: Record<string, string> };
    expect(checks['messaging']).toBe('connecting to Kafka and the registry');
    expect(checks['database']).toBe('ok');
    expect(Object.keys(checks).sort()).toEqual(['database', 'kafka', 'messaging', 'schemaRegistry']);
  });

  it('adds the consumer to readiness when the service consumes', async () => {
    const consumer = defineService({ ...greeter, consumes: () => ({ groupId: 'greeter', topics: ['greetings'], handlers: {} }) });
    const service = await assembleService(consumer, env);
    closing.push(() => service.app.close());
    expect(service.messaging.consumer).toBeDefined();
    expect(service.messaging.readinessChecks().map((c) => c.name)).toContain('consumer');
  });

  it('refuses a publishing service whose config has no outbox settings', async () => {
    const publisher = defineService({
      name: 'greeter-service',
      loadConfig: (e) => loadConfig('greeter-service', schemaWithoutOutbox, e),
      database,
      parts: () => ({}),
      publishes: { events: ['UserCreated'], lockKey: 1 },
      app: (deps) => greeter.app({ ...deps, greeting: 'unused' }),
    });
    await expect(assembleService(publisher, env)).rejects.toThrow(/OUTBOX_POLL_INTERVAL_MS and OUTBOX_BATCH_SIZE/);
  });

  it('guards the declared route with admission control', async () => {
    const guarded = defineService({
      ...greeter,
      publishes: { events: ['UserCreated'], lockKey: 1 },
      admission: () => ({ route: { method: 'POST', url: '/greeting' }, what: 'greetings', maxBacklogMs: 1_000, groups: [] }),
    });
    const service = await assembleService(guarded, env);
    closing.push(() => service.app.close(), async () => service.admission?.stop());
    expect(service.admission?.check()).toEqual({ admit: true });
  });
});
