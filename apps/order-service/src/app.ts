import type { HttpServer } from '@eventflow/http';
import { answerWaitersOnClose, createHttpServer } from '@eventflow/http';
import type { AppDeps } from '@eventflow/service';
import type { Orders } from './application/orders.js';
import { orderProblems } from './http/problems.js';
import { orderRoutes } from './http/routes.js';

export type OrderAppDeps = AppDeps & { orders: Orders };

/** The HTTP side of order-service, built without listening so tests can inject requests. */
export async function buildApp(deps: OrderAppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
    ...deps.http,
    service: 'order-service',
    version: '1.0.0',
    description: 'Orders: placed over HTTP, charged by billing through events, settled exactly once.',
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    prefix: '/orders',
    readiness: deps.readiness,
    domainErrors: orderProblems,
  });
  orderRoutes(app, deps.orders, deps.verifyToken, deps.wait);
  answerWaitersOnClose(app, deps.wait);
  return app;
}
