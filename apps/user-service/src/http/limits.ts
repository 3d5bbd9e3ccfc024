import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { HttpServer, RateLimitCounter, RateLimiter } from '@eventflow/http';
import { rateLimiter } from '@eventflow/http';
import { normalizeEmail } from '../domain/user.js';

/** The limits of user-service's anonymous routes (LOGIN_ATTEMPTS_PER_IP, LOGIN_FAILURES_PER_EMAIL, REGISTRATIONS_PER_IP). */
export interface UserRateLimitSettings {
  loginAttemptsPerIp: number;
  loginFailuresPerEmail: number;
  registrationsPerIp: number;
  /** Shared by the replicas (the service's database); without one, this process counts alone. */
  counter?: RateLimitCounter;
}

export interface UserRateLimits {
  /** Every login attempt per client address, per minute: a guessing client slows to a trickle. */
  loginByAddress: RateLimiter;
  /**
   * Failed logins per e-mail per 15 minutes from any address: a distributed guess at one account.
   * Only failures count, and the per-address limit is far lower, so one address hammering an
   * account cannot lock its owner out (many addresses can, for the window: the usual trade-off).
   */
  loginFailuresByEmail: RateLimiter;
  /** Registrations per client address, per hour. */
  registrationByAddress: RateLimiter;
}

/** The e-mail a login names, hashed: the counters' keys never hold an address anyone typed. */
function emailKey(request: FastifyRequest): string | undefined {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? createHash('sha256').update(normalizeEmail(email)).digest('base64url').slice(0, 22) : undefined;
}

export function userRateLimits(app: HttpServer, settings: UserRateLimitSettings): UserRateLimits {
  const { counter } = settings;
  const shared = counter ? { counter } : {};
  return {
    loginByAddress: rateLimiter(app, { name: 'login-ip', max: settings.loginAttemptsPerIp, windowMs: 60_000, key: (r) => r.ip, ...shared }),
    loginFailuresByEmail: rateLimiter(app, { name: 'login-email', max: settings.loginFailuresPerEmail, windowMs: 15 * 60_000, key: emailKey, ...shared }),
    registrationByAddress: rateLimiter(app, { name: 'register-ip', max: settings.registrationsPerIp, windowMs: 3_600_000, key: (r) => r.ip, ...shared }),
  };
}
