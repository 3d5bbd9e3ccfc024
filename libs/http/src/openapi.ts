/**
 * What the OpenAPI documents say beyond the route schemas themselves, so that they describe what
 * the server really does: a fuzzer or a generated client that trusts them is never surprised.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { Type } from 'typebox';
import { problemContentType } from './problem.js';

/** Where the API is reached: paths in the documents include the ingress prefix (/users, /billing…). */
export const apiServers = [
  { url: 'http://arch.homework', description: 'The ingress of the Helm chart (charts/eventflow)' },
  { url: 'http://127.0.0.1:8080', description: 'npm start: the local entry point' },
];

const problemDescriptions: Record<number, string> = {
  400: 'The request is malformed or fails validation (RFC 9457 problem details)',
  401: 'No valid access token (RFC 9457 problem details)',
  403: 'Not allowed for the caller (RFC 9457 problem details)',
  404: 'No such resource for the caller (RFC 9457 problem details)',
  409: 'Conflicts with the current state (RFC 9457 problem details)',
  413: 'The body exceeds the size limit (RFC 9457 problem details)',
  415: 'The body is not application/json (RFC 9457 problem details)',
  422: 'The idempotency key was used for a different request (RFC 9457 problem details)',
  428: 'An Idempotency-Key header is required (RFC 9457 problem details)',
  429: 'Too many requests; retry after Retry-After seconds (RFC 9457 problem details)',
  503: 'Overloaded or shutting down; retry after Retry-After seconds (RFC 9457 problem details)',
};

/**
 * Response schemas of error statuses: RFC 9457 problem details, sent (by the error handler) and so
 * documented as application/problem+json, not application/json.
 */
export const problemResponses = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      code,
      {
        description: problemDescriptions[code] ?? 'RFC 9457 problem details',
        content: { [problemContentType]: { schema: Type.Ref('Problem') } },
      },
    ]),
  );

type Schema = { type?: unknown; required?: string[]; properties?: Record<string, { default?: unknown }> } & Record<string | symbol, unknown>;

/**
 * The validators fill in defaults (ajv useDefaults), so a property with a default may be left out
 * by the client, whatever the TypeBox object's `required` says for the handler's sake (it always
 * sees a value): e.g. `limit` and `offset` of a list. The documents say it is optional.
 */
export function withDefaultsOptional<T>(schema: T): T {
  const object = schema as Schema | undefined;
  if (!object || typeof object !== 'object' || !Array.isArray(object.required) || !object.properties) return schema;
  const properties = object.properties;
  const required = object.required.filter((name) => properties[name]?.default === undefined);
  if (required.length === object.required.length) return schema;
  const copy: Schema = { ...object, required };
  if (required.length === 0) delete copy.required;
  return copy as T;
}

export interface DocumentInfo {
  service: string;
  version: string;
  description: string;
}

/** @fastify/swagger's options: OpenAPI 3.1 with servers, named components and the rules above. */
export function openApiOptions(info: DocumentInfo): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: info.service, version: info.version, description: info.description },
      servers: apiServers,
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    // Shared schemas appear under their own names (Problem, Order…), not def-0, def-1.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json['$id'] === 'string' ? json['$id'] : `def-${i}`) },
    transform: ({ schema, url }) => {
      if (!schema) return { schema, url };
      const { querystring, headers, body } = schema as { querystring?: unknown; headers?: unknown; body?: unknown };
      return {
        url,
        schema: {
          ...schema,
          ...(querystring ? { querystring: withDefaultsOptional(querystring) } : {}),
          ...(headers ? { headers: withDefaultsOptional(headers) } : {}),
          ...(body ? { body: withDefaultsOptional(body) } : {}),
        } as typeof schema,
      };
    },
  };
}
