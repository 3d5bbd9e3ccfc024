import { Type } from 'typebox';
import type { HttpServer, PreferWait, TokenVerifier } from '@eventflow/http';
import {
  authenticatedRoutes,
  callerOf,
  paginationQuery,
  preferWaitHeaders,
  preferenceAppliedHeader,
  problemResponses,
  readPreferringWait,
  textSchema,
  uuidSchema,
} from '@eventflow/http';
import type { Mailbox } from '../application/mailbox.js';
import { directRecipient } from '../domain/emails.js';

const Message = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    recipient: Type.String({ description: 'E-mail address the message was sent to.' }),
    kind: Type.Union([Type.Literal('ORDER_PAID'), Type.Literal('ORDER_PAYMENT_FAILED'), Type.Literal('DIRECT')]),
    subject: Type.String(),
    body: Type.String(),
    orderId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    amount: Type.Union([Type.Integer({ description: 'Order amount in minor units.' }), Type.Null()]),
    sentAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Message' },
);

/** `wait`: Prefer: wait on GET /notifications/messages?orderId=, woken by the NOTIFY of the transaction that stores the e-mail. */
export function notificationRoutes(app: HttpServer, mailbox: Mailbox, verify: TokenVerifier, wait?: PreferWait): void {
  const security = [{ bearerAuth: [] }];
  app.addSchema(Message);
  authenticatedRoutes(app, verify, (scope) => {
    scope.get(
      '/notifications/messages',
      {
        schema: {
          tags: ['notifications'],
          summary: 'List the messages sent to the caller, newest first',
          description: 'With `orderId` and `Prefer: wait=N` the answer waits until the e-mail about that order is stored, at most N seconds.',
          security,
          querystring: Type.Object({
            ...paginationQuery.properties,
            orderId: Type.Optional(uuidSchema('Only the message about this order.')),
          }),
          headers: preferWaitHeaders('the e-mail about `orderId` is stored (honoured with `orderId` only)'),
          response: {
            200: Type.Object(
              { items: Type.Array(Type.Ref('Message')), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() },
              { headers: preferenceAppliedHeader },
            ),
            ...problemResponses(400, 401),
          },
        },
      },
      async (request, reply) => {
        const { limit, offset, orderId } = request.query;
        const read = () => mailbox.list(callerOf(request).id, { limit, offset, orderId });
        const page = orderId ? await readPreferringWait(request, reply, wait, orderId, read, (p) => p.total > 0 && (p.items.length > 0 || offset > 0)) : await read();
        return { ...page, limit, offset };
      },
    );

    scope.post(
      '/notifications/messages',
      {
        schema: {
          tags: ['notifications'],
          summary: "Send a message to the caller's own address",
          security,
          body: Type.Object(
            {
              to: Type.Optional(Type.String({ format: 'email', maxLength: 254, description: "Must be the caller's own address (the default)." })),
              subject: textSchema({ minLength: 1, maxLength: 200 }),
              body: textSchema({ minLength: 1, maxLength: 10_000 }),
            },
            { additionalProperties: false },
          ),
          response: { 201: Type.Ref('Message'), ...problemResponses(400, 401, 403, 413, 415) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const to = directRecipient(caller.email, request.body.to);
        const message = await mailbox.sendDirect(caller.id, to, { subject: request.body.subject, body: request.body.body });
        return reply.code(201).send(message);
      },
    );
  });
}
