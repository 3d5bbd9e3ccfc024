import envSchema from 'env-schema';
import { Type, type Static, type TObject, type TProperties } from 'typebox';

/** Raised at start-up when the environment does not describe a runnable service. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration for ${service}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Settings every service reads; each service extends them with its own. */
export const commonConfigSchema = {
  HOST: Type.String({ default: '0.0.0.0' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  DATABASE_URL: Type.String({ pattern: '^postgres(ql)?://', description: 'PostgreSQL connection URL of this service' }),
  KAFKA_BROKERS: Type.String({ minLength: 1, description: 'Comma-separated host:port list' }),
  // The service's own Kafka principal; the broker's client listener takes SASL/SCRAM-SHA-512.
  KAFKA_SASL_MECHANISM: Type.Optional(Type.Union([Type.Literal('scram-sha-512'), Type.Literal('')], { description: 'SASL mechanism; empty: no authentication' })),
  KAFKA_SASL_USERNAME: Type.Optional(Type.String({ description: "The service's Kafka principal" })),
  KAFKA_SASL_PASSWORD: Type.Optional(Type.String({ description: 'Its SCRAM password' })),
  SCHEMA_REGISTRY_URL: Type.String({ pattern: '^https?://', description: 'Confluent-compatible schema registry base URL' }),
  // The same pattern as @eventflow/events' kafkaNamespacePattern, which applies the namespace.
  KAFKA_NAMESPACE: Type.String({
    pattern: '^([a-z0-9][a-z0-9-]*\\.)?$',
    default: '',
    description: 'Prefix of every topic, consumer group and subject: empty in a release; `test.` for the system npm test runs',
  }),
  JWT_PUBLIC_KEYS: Type.String({
    minLength: 1,
    description: 'Key set that verifies access tokens: PEM Ed25519 public keys (SPKI) or certificates, the current one and, during a rotation, the previous',
  }),
  TRUSTED_PROXIES: Type.String({
    default: '',
    description: 'Comma-separated addresses/CIDRs of the proxies (ingress controller) whose X-Forwarded-For names the client; empty: the peer address is the client',
  }),
  RATE_LIMIT_EXEMPT_ADDRESSES: Type.String({ default: '', description: 'Comma-separated client addresses no rate limit applies to (local tooling)' }),
  RATE_LIMIT_USER_PER_MINUTE: Type.Integer({
    minimum: 0,
    default: 600,
    description: 'Requests per minute one user may make to authenticated routes, per instance (approximate; 0: no limit)',
  }),
  JWT_ISSUER: Type.String({ default: 'eventflow-user-service' }),
  JWT_AUDIENCE: Type.String({ default: 'eventflow' }),
  HTTP_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, maximum: 10_485_760, default: 16_384 }),
  SWAGGER_UI_ENABLED: Type.Boolean({
    default: false,
    description: 'Serve Swagger UI and the OpenAPI document under <prefix>/docs (on for npm start; off in a release, where docs/api holds the documents)',
  }),
  OUTBOX_POLL_INTERVAL_MS: Type.Integer({ minimum: 10, maximum: 60_000, default: 200 }),
  OUTBOX_BATCH_SIZE: Type.Integer({ minimum: 1, maximum: 1_000, default: 100 }),
  CONSUMER_BATCH_SIZE: Type.Integer({
    minimum: 1,
    maximum: 1_000,
    default: 50,
    description: "At most this many of a partition's waiting events are applied in one transaction (1: one transaction per event)",
  }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 100, maximum: 120_000, default: 15_000 }),
} satisfies TProperties;

/**
 * What a service's `migrate` command reads. A role of its own: the migration role owns the
 * service's tables (DDL), while the service itself connects as a runtime role that may only read
 * and write rows (DATABASE_URL), so a compromised service cannot drop or alter its schema.
 */
export const migrationConfigSchema = {
  MIGRATION_DATABASE_URL: Type.String({
    pattern: '^postgres(ql)?://',
    description: "PostgreSQL connection URL of the service's migration role (owner of its tables)",
  }),
} satisfies TProperties;

/**
 * Validates the environment against a TypeBox schema and returns typed settings,
 * reporting every problem at once instead of failing on the first.
 */
export function loadConfig<T extends TObject>(
  service: string,
  schema: T,
  env: Record<string, string | undefined> = process.env,
): Static<T> {
  try {
    return envSchema<Static<T>>({ schema, data: env, dotenv: false });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      service,
      message.split(', ').map((p) => p.replace(/^env\/?/, '').replace(/^must have required property '(.+)'$/, '$1 is required')),
    );
  }
}

export const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
