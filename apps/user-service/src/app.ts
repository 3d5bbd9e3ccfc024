import type { HttpServer, ReadinessCheck, TokenVerifier } from '@eventflow/http';
import { createHttpServer } from '@eventflow/http';
import type { Logger } from '@eventflow/platform';
import type { Users } from './application/users.js';
import { userProblems } from './http/problems.js';
import { userRoutes } from './http/routes.js';

export interface UserAppDeps {
  logger: Logger;
  users: Users;
  verifyToken: TokenVerifier;
  readiness: ReadinessCheck[];
  bodyLimit: number;
}

/** The HTTP side of user-service, built without listening so tests can inject requests. */
export async function buildApp(deps: UserAppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
    service: 'user-service',
    version: '1.0.0',
    description: 'Registration and login. Registration publishes UserCreated through the outbox.',
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    prefix: '/users',
    readiness: deps.readiness,
    domainErrors: userProblems,
  });
  userRoutes(app, deps.users, deps.verifyToken);
  return app;
}
