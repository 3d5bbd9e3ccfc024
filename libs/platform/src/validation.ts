import { PoisonMessageError } from './errors.js';

/**
 * Field checks for decoded events. Avro guarantees types (a long is a long), not the domain's
 * rules (an id is a UUID, a price is positive); a handler checks those first and turns a
 * violation into a dead letter instead of a database cast error retried forever.
 * Each check returns a problem description, or undefined when the field is fine.
 */
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const isUuid = (value: unknown): value is string => typeof value === 'string' && uuidPattern.test(value);

export type Problem = string | undefined;

export const check = {
  uuid: (field: string, value: unknown): Problem => (isUuid(value) ? undefined : `${field} is not a UUID: ${JSON.stringify(value)}`),
  /** Money in minor units: a positive integer no larger than `max`. */
  positiveMinorUnits: (field: string, value: unknown, max: number): Problem =>
    typeof value === 'number' && Number.isSafeInteger(value) && value > 0 && value <= max ? undefined : `${field} must be an integer in 1..${max}, got ${String(value)}`,
  oneOf: (field: string, value: unknown, allowed: readonly string[]): Problem =>
    typeof value === 'string' && allowed.includes(value) ? undefined : `${field} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`,
  nonEmpty: (field: string, value: unknown): Problem => (typeof value === 'string' && value.trim().length > 0 ? undefined : `${field} must not be empty`),
} as const;

/** The problems found, without the fields that passed. */
export const problemsOf = (...checks: Problem[]): string[] => checks.filter((p): p is string => p !== undefined);

/** Throws a PoisonMessageError (so the consumer dead-letters the message) when there is any problem. */
export function rejectInvalid(eventType: string, problems: readonly string[]): void {
  if (problems.length > 0) throw new PoisonMessageError(`invalid ${eventType}: ${problems.join('; ')}`);
}
