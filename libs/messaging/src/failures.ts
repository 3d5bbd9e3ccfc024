import { PoisonMessageError, RetryableError } from '@eventflow/platform';

/**
 * What a failed attempt at processing a message says about the next attempt:
 * - `poison`: the same message will fail the same way every time (invalid data, a database
 *   refusing the values as such); retrying only blocks the partition, so it is dead-lettered.
 * - `transient`: the failure is about the world, not the message (connection lost, database
 *   restarting, serialization failure, deadlock); retried for as long as it takes.
 * - `unknown`: neither is known; retried a bounded number of times, then dead-lettered (the
 *   dead letter can be replayed once the cause is fixed: `npm run events -- replay`).
 */
export type FailureKind = 'poison' | 'transient' | 'unknown';

export interface FailureClass {
  kind: FailureKind;
  /** Why, for logs and the dead-letter header: e.g. "SQLSTATE 22P02", "ECONNREFUSED". */
  reason: string;
}

/**
 * SQLSTATE classes and codes (PostgreSQL, appendix A). A data exception (class 22) or a
 * not-null/check/exclusion violation depends only on the values written, so it is poison.
 * Unique and foreign-key violations (23505, 23503) depend on other rows, so they stay unknown.
 */
const poisonSqlStates = new Set(['23502', '23514', '23P01']);
const poisonSqlClasses = new Set(['22']);
const transientSqlStates = new Set(['40001', '40P01', '55P03', '57014', '57P01', '57P02', '57P03']);
// 08 connection exception, 53 insufficient resources (too many connections, out of memory or disk).
const transientSqlClasses = new Set(['08', '53']);

/** Prisma's own error codes, for failures that carry no SQLSTATE. */
const transientPrismaCodes = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028', 'P2034']);
const poisonPrismaCodes = new Set(['P2000', 'P2005', 'P2006', 'P2007', 'P2011', 'P2012', 'P2019', 'P2020', 'P2023']);
/** Prisma driver-adapter error kinds that mean the connection, not the data. */
const transientAdapterKinds = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionWriteConflict', 'TransactionAlreadyClosed']);
/** Node's socket errors. */
const transientSystemCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);
/** node-postgres reports a lost connection as a plain Error with one of these messages. */
const transientMessages = /connection terminated|terminating connection|connection (?:is )?closed|server closed the connection|timeout exceeded when trying to connect|client has encountered a connection error/i;

interface ErrorFields {
  name?: unknown;
  code?: unknown;
  severity?: unknown;
  message?: unknown;
  cause?: unknown;
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown; kind?: unknown } } };
}

const sqlStatePattern = /^[0-9A-Z]{5}$/;

/** The SQLSTATE of a node-postgres error or of a Prisma error raised through the pg driver adapter. */
export function sqlStateOf(error: unknown): string | undefined {
  const e = error as ErrorFields | null;
  if (!e || typeof e !== 'object') return undefined;
  const adapter = e.meta?.driverAdapterError?.cause;
  const fromAdapter = adapter?.originalCode ?? adapter?.code;
  if (typeof fromAdapter === 'string' && sqlStatePattern.test(fromAdapter)) return fromAdapter;
  // node-postgres: a DatabaseError has the SQLSTATE in `code` and a `severity`.
  if (typeof e.code === 'string' && sqlStatePattern.test(e.code) && typeof e.severity === 'string') return e.code;
  return undefined;
}

function classifyOne(error: unknown): FailureClass | undefined {
  if (error instanceof PoisonMessageError) return { kind: 'poison', reason: 'invalid message' };
  if (error instanceof RetryableError) return { kind: 'transient', reason: 'retry requested by the handler' };
  if (!error || typeof error !== 'object') return undefined;
  const e = error as ErrorFields;

  const sqlState = sqlStateOf(error);
  if (sqlState) {
    const cls = sqlState.slice(0, 2);
    if (poisonSqlStates.has(sqlState) || poisonSqlClasses.has(cls)) return { kind: 'poison', reason: `SQLSTATE ${sqlState}` };
    if (transientSqlStates.has(sqlState) || transientSqlClasses.has(cls)) return { kind: 'transient', reason: `SQLSTATE ${sqlState}` };
  }
  const kind = e.meta?.driverAdapterError?.cause?.kind;
  if (typeof kind === 'string' && transientAdapterKinds.has(kind)) return { kind: 'transient', reason: kind };
  if (typeof e.code === 'string') {
    if (transientPrismaCodes.has(e.code)) return { kind: 'transient', reason: `Prisma ${e.code}` };
    if (poisonPrismaCodes.has(e.code) && !sqlState) return { kind: 'poison', reason: `Prisma ${e.code}` };
    if (transientSystemCodes.has(e.code)) return { kind: 'transient', reason: e.code };
  }
  // A query Prisma refuses to build from the values given (wrong type, missing field).
  if (e.name === 'PrismaClientValidationError') return { kind: 'poison', reason: 'Prisma validation' };
  // The domain's own guards (e.g. an amount that must be positive) throw RangeError.
  if (error instanceof RangeError) return { kind: 'poison', reason: 'RangeError' };
  if (typeof e.message === 'string' && transientMessages.test(e.message)) return { kind: 'transient', reason: 'connection lost' };
  return undefined;
}

/** Classifies a failure by the error or, failing that, by its causes (Prisma and pg wrap errors). */
export function classifyFailure(error: unknown): FailureClass {
  const seen = new Set<unknown>();
  for (let current = error; current && !seen.has(current); current = (current as ErrorFields).cause) {
    seen.add(current);
    const found = classifyOne(current);
    if (found) return found;
  }
  return { kind: 'unknown', reason: 'unclassified error' };
}
