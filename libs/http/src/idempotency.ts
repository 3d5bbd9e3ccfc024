import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { auditEvent } from './audit.js';
import type { HttpServer } from './http-server.js';
import { HttpProblem } from './problem.js';

/**
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header, and Stripe's behaviour): a client
 * that repeats a POST with the same key gets the first result instead of a second effect, and a key
 * is bound to the request that first used it. The key is recorded in the same database transaction
 * as the effect (table idempotency_keys, owned here: ../prisma/idempotency.sql), so
 *  - a repeat of the same request (same method, route, user and body) is answered with what the
 *    first one created;
 *  - the same key with a different request is a 422 (IdempotencyKeyReusedError);
 *  - concurrent requests with one key queue on the key's row: the first one's transaction decides,
 *    the others then see its committed record and answer with its result (one effect). If the first
 *    one fails (its transaction rolls back), the key stays free and the next one acts;
 *  - only requests that succeeded are remembered: a refused request (e.g. 409, insufficient funds)
 *    may be retried with the same key once its cause is gone.
 * Keys are remembered for idempotencyKeyRetentionHours; older records count as absent and are
 * deleted hourly by every replica (pruneIdempotencyKeysHourly).
 */

/** How long a key is remembered; as Stripe, a day: far longer than any client's retry loop. */
export const idempotencyKeyRetentionHours = 24;

/** A client's key and the fingerprint of the request that carried it. */
export interface IdempotencyKey {
  key: string;
  fingerprint: string;
}

/** JSON with the keys of every object sorted: two bodies that mean the same hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** What binds a key to its request: the method, the route pattern, the user and a hash of the body. */
export function requestFingerprint(request: { method: string; route: string; userId: string; body: unknown }): string {
  return sha256(JSON.stringify([request.method, request.route, request.userId, sha256(canonicalJson(request.body ?? null))]));
}

/** The request's Idempotency-Key with its fingerprint, or undefined when it has none. */
export function idempotencyKeyOf(request: FastifyRequest, userId: string): IdempotencyKey | undefined {
  const key = request.headers['idempotency-key'];
  if (typeof key !== 'string' || key.length === 0) return undefined;
  const route = request.routeOptions.url ?? request.url;
  return { key, fingerprint: requestFingerprint({ method: request.method, route, userId, body: request.body }) };
}

const keyDescription =
  `Repeating a request with the same key answers with the first result (200) instead of acting twice; ` +
  `the same key with a different request (another body, route or user) answers 422. ` +
  `Keys are remembered for ${idempotencyKeyRetentionHours} hours after their first use.`;

const keySchema = (description: string) => Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\x20-\\x7E]+$', description });

/** Headers of a route that accepts an Idempotency-Key. */
export const idempotencyKeyHeader = Type.Object({ 'idempotency-key': Type.Optional(keySchema(`Optional. ${keyDescription}`)) });

/** Headers of a route that refuses to act without one (428, see requireIdempotencyKey). */
export const requiredIdempotencyKeyHeader = Type.Object({
  'idempotency-key': keySchema(`Required (428 without it), e.g. a random UUID per intended operation. ${keyDescription}`),
});

/**
 * preValidation hook of routes that require a key: a missing key is a 428 (RFC 6585, as the
 * Idempotency-Key draft says), answered before the schema's "required" would make it a 400.
 */
export async function requireIdempotencyKey(request: FastifyRequest): Promise<void> {
  if (request.headers['idempotency-key'] === undefined) {
    throw new HttpProblem(
      428,
      'idempotency-key-required',
      'Idempotency-Key required',
      'This operation must carry an Idempotency-Key header (e.g. a random UUID), so that a retry cannot repeat it.',
    );
  }
}

/** The same key was used for a different request: 422, as the Idempotency-Key draft says. */
export class IdempotencyKeyReusedError extends HttpProblem {
  constructor(readonly userId: string, readonly key: string) {
    super(
      422,
      'idempotency-key-reused',
      'Idempotency-Key reused',
      'This Idempotency-Key was already used for a different request (another body, operation or user); use a new key for a new request.',
    );
    this.name = 'IdempotencyKeyReusedError';
  }
}

/**
 * A committed record without a result. The store never commits one (key and result are written in
 * one transaction); this answers such a record should one appear: 409, retry later.
 */
export class IdempotencyKeyInUseError extends HttpProblem {
  constructor() {
    super(409, 'idempotency-key-in-use', 'Idempotency-Key in use', 'A request with this Idempotency-Key is still being processed; retry shortly.');
    this.name = 'IdempotencyKeyInUseError';
  }
}

/** The slice of a Prisma (transaction) client the store needs: raw SQL. */
export interface IdempotencySql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/**
 * Claims the key for this request inside the caller's transaction, before it acts. Returns null
 * when the request should act (then call recordIdempotentResult in the same transaction), or the
 * id of what the earlier identical request created (answer with that). Throws
 * IdempotencyKeyReusedError when the key belongs to a different request.
 *
 * A concurrent claim of the same key waits on the key's row until the first transaction ends,
 * then sees its record (committed) or claims the key itself (rolled back).
 */
export async function claimIdempotencyKey(tx: IdempotencySql, userId: string, idempotency: IdempotencyKey): Promise<string | null> {
  const claimed = await tx.$queryRawUnsafe<unknown[]>(
    `INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES ($1::uuid, $2, $3)
     ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, resource_id = NULL, created_at = now()
       WHERE idempotency_keys.created_at < now() - make_interval(hours => $4)
     RETURNING 1`,
    userId,
    idempotency.key,
    idempotency.fingerprint,
    idempotencyKeyRetentionHours,
  );
  if (claimed.length > 0) return null;
  return earlierIdempotentResult(tx, userId, idempotency);
}

/**
 * The claim as one SQL statement for a store that creates the resource in the same statement, its
 * id chosen beforehand (e.g. the first CTE of the statement that inserts it, each later insert
 * conditioned on it): the record is written with its result at once, so key and effect commit
 * together without an explicit transaction (one round trip instead of a claim, the effect, a
 * record and BEGIN/COMMIT). Yields one row when the key was claimed, none when an earlier request
 * holds it: then answer with earlierIdempotentResult. Concurrent claims queue on the key's row as
 * with claimIdempotencyKey. The arguments are the statement's placeholders ("$1") of the user id,
 * key, fingerprint and resource id.
 */
export function claimIdempotencyKeySql(placeholders: { userId: string; key: string; fingerprint: string; resourceId: string }): string {
  const { userId, key, fingerprint, resourceId } = placeholders;
  return `INSERT INTO idempotency_keys (user_id, key, fingerprint, resource_id) VALUES (${userId}::uuid, ${key}, ${fingerprint}, ${resourceId}::uuid)
     ON CONFLICT (user_id, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, resource_id = EXCLUDED.resource_id, created_at = now()
       WHERE idempotency_keys.created_at < now() - make_interval(hours => ${idempotencyKeyRetentionHours})
     RETURNING 1`;
}

/**
 * After a claim found the key taken: the id of what the earlier identical request created.
 * Throws IdempotencyKeyReusedError when the key belongs to a different request.
 */
export async function earlierIdempotentResult(tx: IdempotencySql, userId: string, idempotency: IdempotencyKey): Promise<string> {
  const [earlier] = await tx.$queryRawUnsafe<Array<{ fingerprint: string; resource_id: string | null }>>(
    `SELECT fingerprint, resource_id::text FROM idempotency_keys WHERE user_id = $1::uuid AND key = $2`,
    userId,
    idempotency.key,
  );
  if (!earlier) throw new IdempotencyKeyInUseError();
  if (earlier.fingerprint !== idempotency.fingerprint) throw new IdempotencyKeyReusedError(userId, idempotency.key);
  if (earlier.resource_id === null) throw new IdempotencyKeyInUseError();
  return earlier.resource_id;
}

/** Records what the request that claimed the key created, in the transaction that created it. */
export async function recordIdempotentResult(tx: IdempotencySql, userId: string, idempotency: IdempotencyKey, resourceId: string): Promise<void> {
  await tx.$executeRawUnsafe(`UPDATE idempotency_keys SET resource_id = $3::uuid WHERE user_id = $1::uuid AND key = $2`, userId, idempotency.key, resourceId);
}

/** Deletes the records older than the retention; returns how many went. */
export function pruneIdempotencyKeys(db: IdempotencySql, retentionHours = idempotencyKeyRetentionHours): Promise<number> {
  return db.$executeRawUnsafe(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)`, retentionHours);
}

/**
 * Prunes the service's expired keys every hour while the server runs (as the messaging runtime
 * prunes the outbox and inbox); every replica does, and deleting twice is harmless.
 */
export function pruneIdempotencyKeysHourly(app: HttpServer, prune: () => Promise<number>): void {
  let timer: NodeJS.Timeout | undefined;
  app.addHook('onReady', async () => {
    timer = setInterval(() => {
      prune().then(
        (removed) => app.log.info({ removed }, 'pruned expired idempotency keys'),
        (error: unknown) => app.log.warn({ err: error }, 'pruning idempotency keys failed'),
      );
    }, 60 * 60 * 1000);
    timer.unref();
  });
  app.addHook('onClose', async () => clearInterval(timer));
}

/**
 * Audits the scope's idempotency mismatches (auditEvent: a structured warning with user id, client
 * address and route, never the body or token, and a count in /metrics). A mismatch is a client bug
 * or a replay attempt, worth seeing either way.
 */
export function auditIdempotencyMismatches(scope: HttpServer): void {
  scope.addHook('onError', async (request, _reply, error) => {
    if (error instanceof IdempotencyKeyReusedError) auditEvent(request, 'idempotency_mismatch', { userId: error.userId, reason: 'different_request' });
  });
}
