import type { FastifyRequest } from 'fastify';
import { Counter } from 'prom-client';

/**
 * Security-relevant events: a failed login, a request refused by a rate limit, an idempotency key
 * reused with another request, a login refused because password hashing was saturated.
 */
export type AuditEventName = 'login_failed' | 'rate_limited' | 'idempotency_mismatch' | 'password_hashing_busy';

/**
 * What an audit event may carry besides its name: identifiers and reasons, never a password, a
 * token or a request body. (A type with a closed set of fields, so a secret cannot slip in as an
 * extra property.)
 */
export interface AuditDetails {
  /** The user concerned, when known (the caller, or the account a failed login named). */
  userId?: string;
  /** Which rule or check: the rate limit's name, the kind of mismatch. */
  reason?: string;
  /** The route, when not the request's own (defaults to the matched route pattern). */
  route?: string;
}

const auditEvents = new Counter({
  name: 'eventflow_audit_events_total',
  help: 'Security-relevant events (failed logins, rate-limit refusals, idempotency mismatches), by event and reason',
  labelNames: ['event', 'reason'] as const,
});

/**
 * Records an audit event: one structured log line (`audit: { event, ip, userId, reason, route,
 * requestId }`, at warn, so it survives an info-level filter) and a count in /metrics. The client
 * address is request.ip, i.e. X-Forwarded-For only from TRUSTED_PROXIES.
 */
export function auditEvent(request: FastifyRequest, event: AuditEventName, details: AuditDetails = {}): void {
  const reason = details.reason ?? '';
  auditEvents.inc({ event, reason });
  request.log.warn(
    {
      audit: {
        event,
        ip: request.ip,
        ...((details.userId ?? request.user?.id) ? { userId: details.userId ?? request.user?.id } : {}),
        ...(reason ? { reason } : {}),
        route: details.route ?? request.routeOptions.url ?? request.url,
        method: request.method,
      },
    },
    `audit: ${event}`,
  );
}
