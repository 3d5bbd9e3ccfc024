import type { EventHandlers } from '@eventflow/messaging';
import type { Orders } from '../application/orders.js';
import { rejectInvalid } from '@eventflow/platform';
import { paymentOutcomeProblems } from '../domain/order.js';
import type { EventTx } from '../persistence/prisma.js';

export const orderConsumerGroup = 'order-service';

/** What order-service does with the events it consumes; each runs inside the inbox transaction. */
export function orderHandlers(orders: Orders): EventHandlers<EventTx> {
  // Per-event lines are debug: each would be a synchronous write to stdout (pino was 4-8 % of the
  // consumers' busy time, docs/performance.md). Final states are counted in eventflow_orders_settled_total{status}.
  return {
    PaymentSucceeded: async (event, ctx) => {
      rejectInvalid('PaymentSucceeded', paymentOutcomeProblems(event));
      const status = await orders.settle(ctx.tx, event, { kind: 'succeeded' }, ctx.eventContext);
      ctx.logger.debug({ orderId: event.orderId, status }, 'order settled');
    },
    PaymentFailed: async (event, ctx) => {
      rejectInvalid('PaymentFailed', paymentOutcomeProblems(event));
      const status = await orders.settle(ctx.tx, event, { kind: 'failed', reason: event.reason }, ctx.eventContext);
      ctx.logger.debug({ orderId: event.orderId, status }, 'order settled');
    },
  };
}
