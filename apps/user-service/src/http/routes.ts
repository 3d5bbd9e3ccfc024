import { Type } from 'typebox';
import type { HttpServer, TokenVerifier } from '@eventflow/http';
import { HttpProblem, auditEvent, authenticatedRoutes, callerOf, problemResponses, textSchema, userRefSchema } from '@eventflow/http';
import { InvalidCredentialsError, PasswordHashingBusyError, type Users } from '../application/users.js';
import type { UserRateLimits } from './limits.js';

const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    name: Type.String(),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User' },
);

const Credentials = {
  email: Type.String({ format: 'email', maxLength: 254 }),
  password: textSchema({ minLength: 8, maxLength: 128, description: '8 to 128 characters, no NUL.' }),
};

export function userRoutes(app: HttpServer, users: Users, verify: TokenVerifier, limits?: UserRateLimits): void {
  const security = [{ bearerAuth: [] }];
  app.addSchema(User);

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Register a user; billing opens an account for them from the UserCreated event',
        body: Type.Object({ ...Credentials, name: textSchema({ minLength: 1, maxLength: 100, nonBlank: true }) }, { additionalProperties: false }),
        response: { 201: Type.Ref('User'), ...problemResponses(400, 409, 413, 415, 429, 503) },
      },
      ...(limits && { onRequest: limits.registrationByAddress.consume }),
    },
    async (request, reply) => {
      const user = await users.register(request.body, { correlationId: request.id });
      request.log.info({ userId: user.id }, 'user registered');
      return reply.code(201).header('location', `/users/${user.id}`).send(user);
    },
  );

  app.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Exchange e-mail and password for an access token',
        body: Type.Object(Credentials, { additionalProperties: false }),
        response: {
          200: Type.Object({
            accessToken: Type.String(),
            tokenType: Type.Literal('Bearer'),
            expiresIn: Type.Integer({ description: 'Seconds until the token expires.' }),
            userId: Type.String({ format: 'uuid' }),
          }),
          ...problemResponses(400, 401, 413, 415, 429, 503),
        },
      },
      // Per address before anything is parsed; per e-mail once the body is validated.
      ...(limits && { onRequest: limits.loginByAddress.consume, preHandler: limits.loginFailuresByEmail.check }),
    },
    async (request) => {
      try {
        return await users.login(request.body.email, request.body.password);
      } catch (error) {
        if (error instanceof InvalidCredentialsError) {
          auditEvent(request, 'login_failed', error.userId ? { userId: error.userId, reason: 'wrong-password' } : { reason: 'unknown-email' });
          await limits?.loginFailuresByEmail.record(request);
        } else if (error instanceof PasswordHashingBusyError) {
          auditEvent(request, 'password_hashing_busy');
        }
        throw error;
      }
    },
  );

  authenticatedRoutes(app, verify, (scope) => {
    scope.get(
      '/users/:userId',
      {
        schema: {
          tags: ['users'],
          summary: 'Read the caller (`me` or their own id)',
          security,
          params: Type.Object({ userId: userRefSchema }),
          response: { 200: Type.Ref('User'), ...problemResponses(400, 401, 404) },
        },
      },
      async (request) => {
        const caller = callerOf(request);
        const id = request.params.userId === 'me' ? caller.id : request.params.userId;
        const user = id === caller.id ? await users.get(id) : null;
        if (!user) throw HttpProblem.notFound(`No user ${request.params.userId}.`);
        return user;
      },
    );
  });
}
