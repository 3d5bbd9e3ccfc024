import type { HttpServer } from '@eventflow/http';
import { answerWaitersOnClose, createHttpServer } from '@eventflow/http';
import type { AppDeps } from '@eventflow/service';
import type { Ledger } from './application/ledger.js';
import { billingProblems } from './http/problems.js';
import { billingRoutes } from './http/routes.js';

export type BillingAppDeps = AppDeps & { ledger: Ledger };

/** The HTTP side of billing, built without listening so tests can inject requests. */
export async function buildApp(deps: BillingAppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
    ...deps.http,
    service: 'billing-service',
    version: '1.0.0',
    description: 'Accounts, deposits, withdrawals and order charges. Accounts are opened from UserCreated events.',
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    prefix: '/billing',
    readiness: deps.readiness,
    domainErrors: billingProblems,
  });
  billingRoutes(app, deps.ledger, deps.verifyToken, deps.wait);
  answerWaitersOnClose(app, deps.wait);
  return app;
}
