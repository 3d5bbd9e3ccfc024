import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import type { Logger } from '@eventflow/platform';
import { SpanKind, SpanStatusCode, errorMessage, otelContext, startSpan } from '@eventflow/platform';
import type { HttpServer } from './http-server.js';
import { keepConnectionToDrain } from './body-limit.js';
import { exposeMetrics } from './metrics.js';
import { openApiOptions } from './openapi.js';
import { HttpProblem, problemContentType, problemSchema } from './problem.js';
import { perUserLimiters, rateLimiter, registerRateLimiting } from './rate-limit.js';
import { uuidPattern } from './schemas.js';

/** A UUID in any case (request ids are opaque to us; only their shape is checked). */
const requestIdPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export type { HttpServer } from './http-server.js';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /**
   * Whether serving HTTP needs it (default true). A failing non-critical check is reported in the
   * answer ("degraded", 200) but keeps the instance in the load balancer: e.g. Kafka, which the
   * outbox lets the API do without.
   */
  critical?: boolean;
}

export interface HttpServerOptions {
  service: string;
  version: string;
  description: string;
  logger: Logger;
  bodyLimit: number;
  /** Path prefix the ingress routes to this service; docs are served under it. */
  prefix: string;
  readiness: ReadinessCheck[];
  /**
   * The service's one mapping from its domain errors to problems (undefined: not a domain error).
   * Routes let domain errors propagate; the error handler answers with the mapped problem.
   */
  domainErrors?: (error: unknown) => HttpProblem | undefined;
  /** Who the client is behind proxies, and the rate limits every service shares (default: no proxy trusted, no per-user limit). */
  edge?: EdgeSettings;
  /** Serve Swagger UI and the OpenAPI document under `<prefix>/docs` (SWAGGER_UI_ENABLED; default off). */
  swaggerUi?: boolean;
}

export interface EdgeSettings {
  /**
   * Addresses/CIDRs of the proxies in front (TRUSTED_PROXIES): only their X-Forwarded-For names
   * the client (request.ip); anyone else's is ignored, so a client cannot pick its own address.
   */
  trustedProxies: string[];
  /** Client addresses no rate limit applies to (RATE_LIMIT_EXEMPT_ADDRESSES). */
  rateLimitExemptAddresses: string[];
  /** Requests per minute per user on authenticated routes, counted per instance (RATE_LIMIT_USER_PER_MINUTE; 0: none). */
  userRequestsPerMinute: number;
}

const ajvFor = (coerceTypes: boolean | 'array') => {
  const ajv = new Ajv({ coerceTypes, useDefaults: true, removeAdditional: false, allErrors: false, strict: false });
  addFormats.default(ajv);
  // Only the canonical spelling (see uuidPattern): ajv-formats also admits `urn:uuid:…`.
  ajv.addFormat('uuid', new RegExp(uuidPattern));
  return ajv;
};

/**
 * A Fastify instance with the conventions every service shares: TypeBox schemas, RFC 9457
 * errors, request ids, OpenAPI 3.1 with Swagger UI under `<prefix>/docs`, and health routes.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit,
    // A client's x-request-id is kept only when it is a UUID: anything else (a log-injection
    // attempt, a 10 kB string) would be echoed into every log line and response; it is replaced.
    requestIdHeader: false,
    genReqId: (request) => {
      const id = request.headers['x-request-id'];
      return typeof id === 'string' && requestIdPattern.test(id) ? id : randomUUID();
    },
    return503OnClosing: true,
    trustProxy: options.edge?.trustedProxies.length ? options.edge.trustedProxies : false,
    // One access-log line per request (below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpServer;

  // The API speaks JSON only: anything else is a 415, not a string handed to validation.
  app.removeContentTypeParser('text/plain');

  // Bodies are never coerced ("100" is not an amount); path and query strings are.
  const strict = ajvFor(false);
  const coercing = ajvFor('array');
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  // A server span per request, continuing the caller's W3C trace context when it sends one;
  // the rest of the request runs inside it, so outbox rows and log lines pick it up.
  app.decorateRequest('span', null);
  app.addHook('onRequest', (request, _reply, done) => {
    const { span, context } = startSpan(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`, SpanKind.SERVER, request.headers);
    span.setAttribute('http.request.id', request.id);
    request.span = span;
    otelContext.with(context, done);
  });
  app.addHook('onResponse', async (request, reply) => {
    const { span } = request;
    span?.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span?.setStatus({ code: SpanStatusCode.ERROR });
    span?.end();
    // Probes and scrapes arrive every few seconds and say nothing, and under overload every
    // refused request (503) would be a line: debug, not info (admission control logs its changes).
    const routine = request.url.startsWith('/health/') || request.url === '/metrics' || reply.statusCode === 503;
    request.log[routine ? 'debug' : 'info'](
      { req: { method: request.method, url: request.url, remoteAddress: request.ip }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
  });

  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setNotFoundHandler((request, reply) => {
    const problem = HttpProblem.notFound(`No route ${request.method} ${request.url}.`);
    void reply.code(404).type(problemContentType).send(problem.toProblem(request.url));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = options.domainErrors?.(error) ?? toProblem(error, request);
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') keepConnectionToDrain(request, reply);
    if (problem.status >= 500 && problem.status !== 503) request.log.error({ err: error }, 'request failed');
    if (problem.retryAfterSeconds !== undefined) void reply.header('retry-after', String(problem.retryAfterSeconds));
    void reply.code(problem.status).type(problemContentType).send(problem.toProblem(request.url));
  });

  app.addSchema(problemSchema);
  await app.register(swagger, openApiOptions(options));
  if (options.swaggerUi) {
    // Loaded only when enabled (off in the chart): its static files and routes are not in every process.
    const { default: swaggerUi } = await import('@fastify/swagger-ui');
    await app.register(swaggerUi, { routePrefix: `${options.prefix}/docs` });
  }

  await registerRateLimiting(app, { exemptAddresses: options.edge?.rateLimitExemptAddresses ?? [] });
  const perUser = options.edge?.userRequestsPerMinute ?? 0;
  if (perUser > 0) {
    // Generous, against a runaway client; in memory, so with N replicas a user gets up to N times it.
    perUserLimiters.set(app, rateLimiter(app, { name: 'user', max: perUser, windowMs: 60_000, key: (request) => request.user?.id }));
  }

  exposeMetrics(app, options.service);
  const hidden = { schema: { hide: true } };
  app.get('/health/live', hidden, async () => ({ status: 'ok' }));
  // The last answer of each readiness check: a change is logged once (a wrong database password,
  // refused Kafka credentials), so the reason a pod is not ready is in its log, not only in the
  // probe's answer, and a probe every few seconds does not repeat it.
  const lastResults = new Map<string, string>();
  app.get('/health/ready', hidden, async (_request, reply) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check, critical = true }) => {
        try {
          // A dependency that hangs (a client retrying a dead broker) must still answer "not ready".
          await Promise.race([
            check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 2 s')), 2_000).unref()),
          ]);
          return [name, 'ok', critical] as const;
        } catch (error) {
          return [name, errorMessage(error), critical] as const;
        }
      }),
    );
    for (const [name, result, critical] of results) {
      const previous = lastResults.get(name);
      if (result === previous || (previous === undefined && result === 'ok')) continue;
      lastResults.set(name, result);
      if (result === 'ok') app.log.info({ check: name }, `readiness: ${name} ok again`);
      else app.log.warn({ check: name, critical, reason: result }, `readiness: ${name} failing${critical ? ' (not ready)' : ''}: ${result}`);
    }
    const ready = results.every(([, result, critical]) => result === 'ok' || !critical);
    const status = !ready ? 'not-ready' : results.every(([, result]) => result === 'ok') ? 'ready' : 'degraded';
    return reply.code(ready ? 200 : 503).send({ status, checks: Object.fromEntries(results.map(([name, result]) => [name, result])) });
  });
  return app;
}

function toProblem(error: FastifyError, request: FastifyRequest): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error.validation) {
    const where = error.validationContext ?? 'request';
    return HttpProblem.badRequest(`Invalid ${where}: ${error.message.replace(/^(body|querystring|params|headers)\/?\s*/, '')}`, {
      errors: error.validation.map((v) => ({ path: v.instancePath || '/', message: v.message })),
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpProblem(413, 'payload-too-large', 'Payload too large', 'The request body exceeds the size limit.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', `Send application/json, not ${request.headers['content-type'] ?? 'nothing'}.`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return HttpProblem.badRequest('The JSON body is empty.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return HttpProblem.badRequest(`Malformed JSON: ${error.message}`);
  }
  if (error instanceof SyntaxError || error.statusCode === 400) return HttpProblem.badRequest(`Malformed request: ${error.message}`);
  // A safety net behind the schemas' text rule (textSchema): PostgreSQL cannot store NUL in text.
  if (sqlStateOf(error) === '22021') return HttpProblem.badRequest('Text must not contain NUL (U+0000) characters.');
  // The database pool had no connection for the transaction in time (Prisma P2028, pg's pool
  // timeout): the service is saturated, which is a fast 503 the client may retry, not a 500.
  if (isPoolExhausted(error)) return HttpProblem.overloaded('No database connection was free in time; try again shortly.', 1);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new HttpProblem(error.statusCode, 'client-error', 'Client error', error.message);
  }
  return new HttpProblem(500, 'internal-error', 'Internal server error', 'The request could not be processed; it is logged with its request id.');
}

/** The PostgreSQL SQLSTATE behind an error, from pg itself or wrapped by Prisma's driver adapter. */
function sqlStateOf(error: unknown): string | undefined {
  const { code, meta } = error as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } };
  const original = meta?.driverAdapterError?.cause?.originalCode;
  if (typeof original === 'string') return original;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function isPoolExhausted(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  return code === 'P2028' || /Unable to start a transaction in the given time|timeout exceeded when trying to connect/i.test(text);
}
