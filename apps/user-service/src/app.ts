import type { HttpServer } from '@eventflow/http';
import { createHttpServer } from '@eventflow/http';
import type { AppDeps } from '@eventflow/service';
import type { Users } from './application/users.js';
import { userProblems } from './http/problems.js';
import { userRateLimits, type UserRateLimitSettings } from './http/limits.js';
import { userRoutes } from './http/routes.js';

export type UserAppDeps = AppDeps & { users: Users; rateLimits?: UserRateLimitSettings };

/** The HTTP side of user-service, built without listening so tests can inject requests. */
export async function buildApp(deps: UserAppDeps): Promise<HttpServer> {
  const app = await createHttpServer({
    ...deps.http,
    service: 'user-service',
    version: '1.0.0',
    description: 'Registration and login. Registration publishes UserCreated through the outbox.',
    logger: deps.logger,
    bodyLimit: deps.bodyLimit,
    prefix: '/users',
    readiness: deps.readiness,
    domainErrors: userProblems,
  });
  userRoutes(app, deps.users, deps.verifyToken, deps.rateLimits && userRateLimits(app, deps.rateLimits));
  return app;
}
