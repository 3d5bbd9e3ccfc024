import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Waits for an asynchronous outcome by polling: `probe` returns the value when the condition
 * holds, or undefined to try again. Fails with `description` and the last observation when
 * the bound is reached; never a fixed sleep.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small JSON client for the system's HTTP API. */
export function apiClient(baseUrl: string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? null : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, body: body as T, headers: response.headers };
  };
}

const repoRoot = new URL('../../../', import.meta.url).pathname;

/**
 * The SASL settings of one of the local broker's principals (scripts/stack/stack creates them and
 * keeps their passwords in .stack/secrets/kafka): tests use `test` for what they create under
 * the `test.` prefix, `ops` to read and write the system's own topics. Without a password (a
 * broker without SASL) the client connects unauthenticated.
 */
export function kafkaSettingsOf(principal: string, env: Record<string, string | undefined> = process.env) {
  const variable = `KAFKA_PASSWORD_${principal.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const file = join(repoRoot, '.stack', 'secrets', 'kafka', principal);
  const password = env[variable] ?? (existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined);
  return {
    KAFKA_BROKERS: env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    ...(password ? { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: principal, KAFKA_SASL_PASSWORD: password } : {}),
  };
}

/** Connection settings of the local stack (scripts/stack/stack env), overridable by the environment. */
export function stackSettings() {
  const env = process.env;
  const pg = (role: string, db: string) => env[`${db.toUpperCase()}_DATABASE_URL`] ?? `postgres://${role}:${role}@127.0.0.1:5432/${db}`;
  return {
    kafkaBrokers: env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    /** The registry's writable instance: tests register scratch subjects, as provisioning does. */
    schemaRegistryUrl: env['SCHEMA_REGISTRY_WRITE_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    /** Its read-only instance, the one the services are given. */
    schemaRegistryReadUrl: env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8082/apis/ccompat/v7',
    usersDb: env['USER_DATABASE_URL'] ?? pg('user_service', 'users'),
    billingDb: env['BILLING_DATABASE_URL'] ?? pg('billing_service', 'billing'),
    ordersDb: env['ORDER_DATABASE_URL'] ?? pg('order_service', 'orders'),
    notificationsDb: env['NOTIFICATION_DATABASE_URL'] ?? pg('notification_service', 'notifications'),
  };
}

export { createTestTokens, ed25519KeyId, type TestTokens } from './tokens.js';
export { ownedTablesDriftOf, pgAdminUrl, schemaDriftOf, scratchDatabase } from './database.js';
export type { OwnedTableDefinition } from './drift.js';

/** An event envelope for tests that build events by hand. */
export const eventMetadata = (eventType: string, occurredAt = Date.now(), producer = 'test') => ({
  eventId: randomUUID(),
  eventType,
  occurredAt,
  correlationId: randomUUID(),
  causationId: null,
  producer,
});
