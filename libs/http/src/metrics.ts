import { Counter, Histogram, collectDefaultMetrics, register } from 'prom-client';
import type { HttpServer } from './http-server.js';

let defaultsCollected = false;

const httpRequests = new Counter({
  name: 'eventflow_http_requests_total',
  help: 'HTTP requests answered, by route and status code',
  labelNames: ['method', 'route', 'status'] as const,
});
const httpDuration = new Histogram({
  name: 'eventflow_http_request_duration_seconds',
  help: 'Time to answer an HTTP request, by route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
});

/**
 * Prometheus metrics at /metrics: the process's defaults, HTTP rate, errors and duration by
 * route (the route pattern, never the raw URL, so ids do not explode the label set), plus
 * whatever the service and the messaging library register in the default registry.
 */
export function exposeMetrics(app: HttpServer, service: string): void {
  if (!defaultsCollected) {
    register.setDefaultLabels({ service });
    collectDefaultMetrics();
    defaultsCollected = true;
  }
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    if (route === '/metrics' || route.startsWith('/health')) return;
    httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    return reply.type(register.contentType).send(await register.metrics());
  });
}
