/**
 * The local HTTP entry point of `npm start` and the tests (:8080): routes by path prefix exactly
 * as the Kubernetes ingress does, and behaves like its nginx where a client can tell:
 * - the service's answer passes through unchanged, a 413 for a too-large body included (the
 *   services read and drop a bounded too-large body instead of resetting the connection, see
 *   @eventflow/http keepConnectionToDrain);
 * - a service that is down answers 503 problem+json with Retry-After (nginx ingress: no ready
 *   endpoints), a broken or timed-out upstream 502/504: never a 500, never a hang;
 * - X-Forwarded-For gets the client's address appended, and X-Request-Id is kept if it is a UUID
 *   (otherwise replaced) and passed on, so the gateway's and the service's log lines match;
 * - one pino line per request in .stack/logs/gateway.log, like the services' access log.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import proxy from '@fastify/http-proxy';
import { createLogger } from '@eventflow/platform';

export interface GatewayRoute {
  /** Path prefixes routed to the upstream, e.g. ['/users', '/auth']. */
  prefixes: string[];
  /** Base URL of the service, e.g. http://127.0.0.1:3001. */
  upstream: string;
  name: string;
}

export interface GatewayOptions {
  port: number;
  routes: GatewayRoute[];
  /** Where the access log goes (appended); absent: standard output. */
  logFile?: string;
  logLevel?: string;
  /**
   * Longest wait for an upstream's answer (its headers, then between body chunks) before a 504.
   * Above the services' longest legitimate wait (Prefer: wait, PREFER_WAIT_MAX_SECONDS 30).
   */
  upstreamTimeoutMs?: number;
}

const problemType = (slug: string) => `https://arch.homework/problems/${slug}`;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Error codes (of the upstream connection) that mean nothing is listening: the service is down. */
const downCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const timeoutCodes = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'FST_REPLY_FROM_GATEWAY_TIMEOUT']);

/** The codes along an error's cause chain (reply-from wraps undici's errors, which wrap the socket's). */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') codes.push(e.code);
  }
  return codes;
}

/** The answer to a failed upstream call, as nginx would give it, in the services' problem format. */
export function upstreamProblem(error: unknown, service: string): { status: 502 | 503 | 504; slug: string; title: string; detail: string; retryAfter?: number } {
  const codes = codesOf(error);
  if (codes.some((c) => downCodes.has(c))) {
    return { status: 503, slug: 'service-unavailable', title: 'Service unavailable', detail: `${service} is not reachable (${codes.join(' ← ')}); try again shortly.`, retryAfter: 1 };
  }
  if (codes.some((c) => timeoutCodes.has(c))) {
    return { status: 504, slug: 'gateway-timeout', title: 'Gateway timeout', detail: `${service} did not answer in time.` };
  }
  return { status: 502, slug: 'bad-gateway', title: 'Bad gateway', detail: `The connection to ${service} failed (${codes.join(' ← ') || 'no code'}); try again.`, retryAfter: 1 };
}

interface ProblemReply {
  request: { raw: Parameters<typeof drain>[0]; url: string };
  header: (name: string, value: string) => unknown;
  code: (status: number) => { type: (type: string) => { send: (body: unknown) => unknown } };
}

/** Reads and drops the rest of a body nobody forwards, so the client's connection stays usable. */
function drain(raw: { complete: boolean; unpipe: () => unknown; on: (event: 'data', listener: () => void) => unknown; resume: () => unknown }): void {
  if (raw.complete) return;
  raw.unpipe();
  raw.on('data', () => {});
  raw.resume();
}

function sendProblem(reply: ProblemReply, problem: ReturnType<typeof upstreamProblem>): void {
  // A client still sending its body must not be left blocked on a connection nobody reads.
  drain(reply.request.raw);
  if (problem.retryAfter !== undefined) void reply.header('retry-after', String(problem.retryAfter));
  void reply
    .code(problem.status)
    .type('application/problem+json')
    .send({ type: problemType(problem.slug), title: problem.title, status: problem.status, detail: problem.detail, instance: reply.request.url });
}

export async function createGateway(options: GatewayOptions): Promise<FastifyInstance> {
  if (options.logFile) mkdirSync(dirname(options.logFile), { recursive: true });
  const destination = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  const logger = createLogger('gateway', options.logLevel ?? process.env['LOG_LEVEL'] ?? 'info', {}, destination);
  const timeout = options.upstreamTimeoutMs ?? 45_000;
  const gateway = Fastify({
    loggerInstance: logger,
    // Bodies are streamed to the service, which applies its own limit.
    requestIdHeader: false,
    genReqId: (request) => {
      const id = request.headers['x-request-id'];
      return typeof id === 'string' && uuid.test(id) ? id : randomUUID();
    },
    // One access-log line per request (below) instead of Fastify's two, as in the services.
    logController: new LogController({ disableRequestLogging: true }),
  });

  gateway.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { req: { method: request.method, url: request.url, remoteAddress: request.ip }, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
  });

  // A body the service answered before reading it to the end (a 413) is read and dropped from
  // here on, as nginx does: a client still sending it must not be cut off (EPIPE) once the
  // answer is written and the connection is no longer read.
  gateway.addHook('onSend', async (request, _reply, payload) => {
    drain(request.raw);
    return payload;
  });

  // Bodies are streamed to the service, which applies its own limit, through a pass-through of
  // their own: when the upstream call fails, the HTTP client destroys the stream it was given,
  // which must not be the client's request (that would reset the client's connection).
  gateway.removeAllContentTypeParsers();
  gateway.addContentTypeParser('*', (_request, payload, done) => {
    const body = new PassThrough();
    payload.pipe(body);
    done(null, body);
  });

  for (const route of options.routes) {
    for (const prefix of route.prefixes) {
      await gateway.register(proxy, {
        upstream: route.upstream,
        prefix,
        rewritePrefix: prefix,
        undici: { headersTimeout: timeout, bodyTimeout: timeout },
        proxyPayloads: false,
        // Its two lines per request ("fetching", "received") would double the access log.
        disableRequestLogging: true,
        replyOptions: {
          rewriteRequestHeaders: (request, headers) => {
            const forwarded = headers['x-forwarded-for'];
            return {
              ...headers,
              'x-request-id': request.id,
              'x-forwarded-for': forwarded ? `${String(forwarded)}, ${request.ip}` : request.ip,
            };
          },
          rewriteHeaders: (headers, request) => ({ ...headers, 'x-request-id': headers['x-request-id'] ?? request?.id }),
          onError: (reply, { error }) => {
            const problem = upstreamProblem(error, route.name);
            reply.request.log.warn({ err: error, upstream: route.upstream, status: problem.status }, `upstream ${route.name} failed`);
            sendProblem(reply, problem);
          },
        },
      });
    }
  }

  gateway.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .type('application/problem+json')
      .send({ type: problemType('not-found'), title: 'Not found', status: 404, detail: `No service serves ${request.url}.`, instance: request.url });
  });
  // Whatever else goes wrong in the gateway itself is still a problem document, never a hang.
  gateway.setErrorHandler((error: FastifyError, request, reply) => {
    request.log.error({ err: error }, 'gateway error');
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 502;
    drain(request.raw);
    void reply
      .code(status)
      .type('application/problem+json')
      .send({ type: problemType(status === 502 ? 'bad-gateway' : 'client-error'), title: status === 502 ? 'Bad gateway' : 'Client error', status, detail: error.message, instance: request.url });
  });

  if (destination) gateway.addHook('onClose', async () => new Promise<void>((resolve) => destination.end(resolve)));
  await gateway.listen({ host: '127.0.0.1', port: options.port });
  return gateway as unknown as FastifyInstance;
}
