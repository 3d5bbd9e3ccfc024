import { createRequire } from 'node:module';
import type { FastifyReply, FastifyRequest } from 'fastify';
import rateLimitPlugin from '@fastify/rate-limit';
import { auditEvent } from './audit.js';
import type { HttpServer } from './http-server.js';
import { HttpProblem } from './problem.js';

/**
 * A counter of requests per key over a fixed window, shared by every replica of a service (e.g.
 * a table in its database). Limits without one are counted in this process's memory.
 */
export interface RateLimitCounter {
  /** Counts one more request for key; the window starts with the first. */
  increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /** The count so far, without counting. */
  read(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
}

export interface RateLimitRule {
  /** Names the rule in keys, logs and metrics ("login-ip"). */
  name: string;
  max: number;
  windowMs: number;
  /** What is counted: the client address, an e-mail, a user id; undefined: the rule does not apply. */
  key: (request: FastifyRequest) => string | undefined;
  /** Shared across replicas; default: this process's memory (approximate with several replicas). */
  counter?: RateLimitCounter;
}

export interface RateLimiter {
  /** Counts the request; over the limit it is refused with 429. */
  consume(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Refuses with 429 if the limit is already used up, without counting (for limits on failures). */
  check(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Counts without refusing (a failure that a later check will see). */
  record(request: FastifyRequest): Promise<void>;
}

type StoreCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;
interface Store {
  incr(key: string, callback: StoreCallback, timeWindow: number, max: number): void;
  read(key: string, callback: StoreCallback, timeWindow: number, max: number): void;
  child(params: { counter?: RateLimitCounter }): Store;
}

/** @fastify/rate-limit's in-memory LRU store (CommonJS, without typings of its own). */
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore') as new (
  continueExceeding: boolean,
  exponentialBackoff: boolean,
  cache?: number,
) => Store;

/** The plugin's store: each limiter's child store uses its rule's shared counter, or the plugin's in-memory LRU. */
class CounterStore implements Store {
  constructor(private readonly counter?: RateLimitCounter) {}
  child(params: { counter?: RateLimitCounter }): Store {
    return params.counter ? new CounterStore(params.counter) : new LocalStore(false, false, 10_000);
  }
  incr(key: string, callback: StoreCallback, timeWindow: number): void {
    this.counter!.increment(key, timeWindow).then(({ count, resetInMs }) => callback(null, { current: count, ttl: resetInMs }), callback);
  }
  read(key: string, callback: StoreCallback, timeWindow: number): void {
    this.counter!.read(key, timeWindow).then(({ count, resetInMs }) => callback(null, { current: count, ttl: resetInMs }), callback);
  }
}

/** The per-user limiter of an app (createHttpServer's edge settings), applied by authenticatedRoutes. */
export const perUserLimiters = new WeakMap<HttpServer, RateLimiter>();

export interface RateLimitSettings {
  /** Client addresses (request.ip) no limit applies to: tools on the same machine. */
  exemptAddresses: string[];
}

/**
 * Registers @fastify/rate-limit for limiters created with rateLimiter() (no global limit: each
 * route says which rules apply, and the 429 is the service's problem+json).
 */
export async function registerRateLimiting(app: HttpServer, settings: RateLimitSettings): Promise<void> {
  const exempt = new Set(settings.exemptAddresses);
  await app.register(rateLimitPlugin, {
    global: false,
    store: CounterStore as never,
    allowList: (request) => exempt.has(request.ip),
  });
}

const headerNames = { limit: 'ratelimit-limit', remaining: 'ratelimit-remaining', reset: 'ratelimit-reset', policy: 'ratelimit-policy' };

/** The RateLimit-* headers (IETF httpapi draft) of the most constraining rule a response passed through. */
function setHeaders(reply: FastifyReply, rule: RateLimitRule, remaining: number, resetSeconds: number): void {
  const shown = reply.getHeader(headerNames.remaining);
  if (shown !== undefined && Number(shown) <= remaining) return;
  void reply.header(headerNames.limit, rule.max);
  void reply.header(headerNames.remaining, remaining);
  void reply.header(headerNames.reset, resetSeconds);
  void reply.header(headerNames.policy, `${rule.max};w=${Math.ceil(rule.windowMs / 1000)}`);
}

/** A limiter for one rule on the app where registerRateLimiting ran (or a parent of it). */
export function rateLimiter(app: HttpServer, rule: RateLimitRule): RateLimiter {
  const limit = app.createRateLimit({
    max: rule.max,
    timeWindow: rule.windowMs,
    keyGenerator: (request) => `${rule.name}:${rule.key(request)}`,
    ...(rule.counter ? { counter: rule.counter } : {}),
  } as Parameters<HttpServer['createRateLimit']>[0]);

  const apply = async (request: FastifyRequest, reply: FastifyReply, increment: boolean, refuseAt: 'over' | 'at'): Promise<void> => {
    if (rule.key(request) === undefined) return;
    const result = await limit(request, { increment });
    if (result.isAllowed) return;
    const resetSeconds = Math.max(1, result.ttlInSeconds);
    const refused = refuseAt === 'over' ? result.isExceeded : result.remaining === 0 && result.ttl > 0;
    setHeaders(reply, rule, refused ? 0 : result.remaining, resetSeconds);
    if (!refused) return;
    auditEvent(request, 'rate_limited', { reason: rule.name });
    throw HttpProblem.tooManyRequests(`Too many requests (${rule.name}: ${rule.max} per ${Math.ceil(rule.windowMs / 1000)} s); retry in ${resetSeconds} s.`, resetSeconds);
  };

  return {
    consume: (request, reply) => apply(request, reply, true, 'over'),
    check: (request, reply) => apply(request, reply, false, 'at'),
    record: async (request) => {
      if (rule.key(request) !== undefined) await limit(request, { increment: true });
    },
  };
}
