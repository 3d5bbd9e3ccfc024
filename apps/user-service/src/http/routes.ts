import { Type } from 'typebox';
import type { HttpServer, TokenVerifier } from '@eventflow/http';
import { HttpProblem, authenticatedRoutes, callerOf, problemResponses, userRefSchema } from '@eventflow/http';
import type { Users } from '../application/users.js';

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
  password: Type.String({ minLength: 8, maxLength: 128, description: '8 to 128 characters.' }),
};

export function userRoutes(app: HttpServer, users: Users, verify: TokenVerifier): void {
  const security = [{ bearerAuth: [] }];
  app.addSchema(User);

  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Register a user; billing opens an account for them from the UserCreated event',
        body: Type.Object({ ...Credentials, name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) }, { additionalProperties: false }),
        response: { 201: Type.Ref('User'), ...problemResponses(400, 409, 413, 415) },
      },
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
          ...problemResponses(400, 401, 413, 415),
        },
      },
    },
    async (request) => {
      return users.login(request.body.email, request.body.password);
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
