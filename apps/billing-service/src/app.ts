import type { HttpServer, PreferWait, ReadinessCheck, TokenVerifier } from '@eventflow/http';
import { answerWaitersOnClose, createHttpServer } from '@eventflow/http';
import type { Logger } from '@eventflow/platform';
import type { Ledger } from './application/ledger.js';
import { billingProblems } from './http/problems.js';
import { billingRoutes } from './http/routes.js';

export interface BillingAppDeps {
  logger: Logger;
  ledger: Ledger;
  verifyToken: TokenVerifier;
  readiness: ReadinessCheck[];
  bodyLimit: number;
  /** Prefer: wait support; without it the preference is ignored. */
  wait?: PreferWait;
}

/** The HTTP side of billing, built without listening so tests can inject requests. */
export async function buildApp(deps: BillingAppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
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
