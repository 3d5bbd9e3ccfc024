import type { HttpServer } from '@eventflow/http';
import { answerWaitersOnClose, createHttpServer } from '@eventflow/http';
import type { AppDeps } from '@eventflow/service';
import type { Mailbox } from './application/mailbox.js';
import { notificationProblems } from './http/problems.js';
import { notificationRoutes } from './http/routes.js';

export type NotificationAppDeps = AppDeps & { mailbox: Mailbox };

/** The HTTP side of notification-service, built without listening so tests can inject requests. */
export async function buildApp(deps: NotificationAppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
    ...deps.http,
    service: 'notification-service',
    version: '1.0.0',
    description: 'Sends (stores) e-mails about order outcomes and lists them.',
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    prefix: '/notifications',
    readiness: deps.readiness,
    domainErrors: notificationProblems,
  });
  notificationRoutes(app, deps.mailbox, deps.verifyToken, deps.wait);
  answerWaitersOnClose(app, deps.wait);
  return app;
}
