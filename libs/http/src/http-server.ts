import type { FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger, startSpan } from '@eventflow/platform';

/** The Fastify instance every service builds on: TypeBox schemas, the platform's pino logger. */
export type HttpServer = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, Logger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's server span (createHttpServer starts it on request, ends it on response). */
    span: ReturnType<typeof startSpan>['span'] | null;
  }
}
