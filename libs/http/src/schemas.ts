import { Type } from 'typebox';
import { maxAmount } from '@eventflow/platform';

/** A positive whole number of minor units; floats, strings, zero and absurd sizes are 400s. */
export const amountSchema = (description: string) =>
  Type.Integer({ minimum: 1, maximum: maxAmount, description: `${description} In minor units (e.g. cents), 1 to ${maxAmount}.`, examples: [1500] });

export const uuidSchema = (description: string) => Type.String({ format: 'uuid', description });

/** `me` or the caller's own user id. */
export const userRefSchema = Type.Union([Type.Literal('me'), Type.String({ format: 'uuid' })], {
  description: "The user's id, or `me` for the caller. Another user's id answers 404.",
});

export const idempotencyKeyHeader = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Optional. Repeating a request with the same key returns the first result instead of acting twice.',
    }),
  ),
});

/** Both optional for the client: the validator fills in the defaults (see withDefaultsOptional). */
export const paginationQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
});

export { problemResponses } from './openapi.js';
