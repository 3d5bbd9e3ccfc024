import { Type } from 'typebox';
import type { HttpServer, PreferWait, TokenVerifier } from '@eventflow/http';
import {
  auditIdempotencyMismatches,
  authenticatedRoutes,
  amountSchema,
  callerOf,
  idempotencyKeyHeader,
  idempotencyKeyOf,
  paginationQuery,
  pruneIdempotencyKeysHourly,
  preferWaitHeaders,
  preferenceAppliedHeader,
  problemResponses,
  readPreferringWait,
  uuidSchema,
} from '@eventflow/http';
import type { Orders } from '../application/orders.js';
import { OrderNotFoundError } from '../domain/order.js';

const Order = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ format: 'uuid' }),
    price: Type.Integer({ description: 'Price in minor units.' }),
    status: Type.Union([Type.Literal('PENDING_PAYMENT'), Type.Literal('PAID'), Type.Literal('PAYMENT_FAILED')], {
      description: 'PENDING_PAYMENT until billing answers, then PAID or PAYMENT_FAILED, once.',
    }),
    failureReason: Type.Union([Type.String(), Type.Null()], { description: 'Why the payment failed, e.g. INSUFFICIENT_FUNDS.' }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    completedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  },
  { $id: 'Order' },
);

/** `wait`: Prefer: wait on GET /orders/{id}, woken by the NOTIFY of the settling transaction (Orders.settle) in any replica. */
export function orderRoutes(app: HttpServer, orders: Orders, verify: TokenVerifier, wait?: PreferWait): void {
  const security = [{ bearerAuth: [] }];
  app.addSchema(Order);
  pruneIdempotencyKeysHourly(app, () => orders.pruneIdempotencyKeys());
  authenticatedRoutes(app, verify, (scope) => {
    auditIdempotencyMismatches(scope);
    scope.post(
      '/orders',
      {
        schema: {
          tags: ['orders'],
          summary: 'Place an order; billing charges its price asynchronously',
          security,
          headers: idempotencyKeyHeader,
          body: Type.Object({ price: amountSchema('Price of the order.') }, { additionalProperties: false }),
          response: { 201: Type.Ref('Order'), 200: Type.Ref('Order'), ...problemResponses(400, 401, 409, 413, 415, 422, 503) },
        },
      },
      async (request, reply) => {
        const caller = callerOf(request);
        const { order, replayed } = await orders.place(caller.id, request.body.price, { correlationId: request.id }, idempotencyKeyOf(request, caller.id));
        return reply.code(replayed ? 200 : 201).header('location', `/orders/${order.id}`).send(order);
      },
    );

    scope.get(
      '/orders/:orderId',
      {
        schema: {
          tags: ['orders'],
          summary: 'Read one of the caller\'s orders',
          description: 'With `Prefer: wait=N` the answer waits until the order is PAID or PAYMENT_FAILED, at most N seconds.',
          security,
          params: Type.Object({ orderId: uuidSchema() }),
          headers: preferWaitHeaders('the order is PAID or PAYMENT_FAILED'),
          response: { 200: { ...Type.Ref('Order'), headers: preferenceAppliedHeader }, ...problemResponses(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const { orderId } = request.params;
        const read = () => orders.get(callerOf(request).id, orderId);
        const order = await readPreferringWait(request, reply, wait, orderId, read, (o) => o === null || o.status !== 'PENDING_PAYMENT');
        if (!order) throw new OrderNotFoundError(orderId);
        return order;
      },
    );

    scope.get(
      '/orders',
      {
        schema: {
          tags: ['orders'],
          summary: "List the caller's orders, newest first",
          security,
          querystring: paginationQuery,
          response: {
            200: Type.Object({ items: Type.Array(Type.Ref('Order')), total: Type.Integer(), limit: Type.Integer(), offset: Type.Integer() }),
            ...problemResponses(400, 401),
          },
        },
      },
      async (request) => {
        const { limit, offset } = request.query;
        return { ...(await orders.list(callerOf(request).id, limit, offset)), limit, offset };
      },
    );
  });
}
