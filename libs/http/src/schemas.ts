import { Type } from 'typebox';
import { maxAmount } from '@eventflow/platform';

/** A positive whole number of minor units; floats, strings, zero and absurd sizes are 400s. */
export const amountSchema = (description: string) =>
  Type.Integer({ minimum: 1, maximum: maxAmount, description: `${description} In minor units (e.g. cents), 1 to ${maxAmount}.`, examples: [1500] });

/**
 * A UUID in its canonical form only: 36 characters, lowercase hex and hyphens. JSON Schema's
 * `uuid` format also admits `urn:uuid:…` and PostgreSQL admits braces, no hyphens and upper case,
 * each of which would reach a query and answer differently (a 500, or a 404 for one's own id in
 * capitals); the pattern turns them all into a 400. createHttpServer's validator applies the same
 * rule to every `format: 'uuid'`; the pattern makes the OpenAPI documents say so.
 */
export const uuidPattern = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** An id from a path, query or body: a canonical UUID (uuidPattern). */
export const uuidSchema = (description?: string) =>
  Type.String({ format: 'uuid', pattern: uuidPattern, ...(description ? { description } : {}) });

/** `me` or the caller's own user id. */
export const userRefSchema = Type.Union([Type.Literal('me'), uuidSchema()], {
  description: "The user's id, or `me` for the caller. Another user's id answers 404.",
});

/**
 * Text from a client that is stored: any characters but NUL (U+0000), which PostgreSQL cannot
 * store in text (SQLSTATE 22021) and which no name, subject or message needs. A 400 at the schema,
 * so the OpenAPI documents show the rule.
 */
export const noNulPattern = '^[^\\u0000]*$';
/** The same, with at least one character that is not white space. */
export const nonBlankNoNulPattern = '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$';
export const textSchema = ({ nonBlank = false, ...options }: { minLength?: number; maxLength: number; nonBlank?: boolean; description?: string }) =>
  Type.String({ ...options, pattern: nonBlank ? nonBlankNoNulPattern : noNulPattern });

/** Both optional for the client: the validator fills in the defaults (see withDefaultsOptional). */
export const paginationQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
});

export { problemResponses } from './openapi.js';
