import type { HttpServer, PreferWait, ReadinessCheck, TokenVerifier } from '@eventflow/http';
import { answerWaitersOnClose, createHttpServer } from '@eventflow/http';
import type { Logger } from '@eventflow/platform';
import type { Mailbox } from './application/mailbox.js';
import { notificationRoutes } from './http/routes.js';

export interface NotificationAppDeps {
  logger: Logger;
  mailbox: Mailbox;
  verifyToken: TokenVerifier;
  readiness: ReadinessCheck[];
  bodyLimit: number;
  /** Prefer: wait support; without it the preference is ignored. */
  wait?: PreferWait;
}

/** The HTTP side of notification-service, built without listening so tests can inject requests. */
export async function buildApp(deps: NotificationAppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
    service: 'notification-service',
    version: '1.0.0',
    description: 'Sends (stores) e-mails about order outcomes and lists them.',
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    prefix: '/notifications',
    readiness: deps.readiness,
  });
  notificationRoutes(app, deps.mailbox, deps.verifyToken, deps.wait);
  answerWaitersOnClose(app, deps.wait);
  return app;
}
