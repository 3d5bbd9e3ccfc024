import type { EventHandlers, HandlerContext } from '@eventflow/messaging';
import type { Orders } from '../application/orders.js';
import { rejectInvalid } from '@eventflow/platform';
import { paymentOutcomeProblems } from '../domain/order.js';
import type { EventTx } from '../persistence/prisma.js';

export const orderConsumerGroup = 'order-service';

export function orderHandlers(orders: Orders, producer: string): EventHandlers<EventTx> {
  const contextOf = ({ metadata }: HandlerContext<EventTx>) => ({
    producer,
    correlationId: metadata.correlationId,
    causationId: metadata.eventId,
  });
  return {
    PaymentSucceeded: async (event, ctx) => {
      rejectInvalid('PaymentSucceeded', paymentOutcomeProblems(event));
      const status = await orders.settle(ctx.tx, event, { kind: 'succeeded' }, contextOf(ctx));
      ctx.logger.info({ orderId: event.orderId, status }, 'order settled');
    },
    PaymentFailed: async (event, ctx) => {
      rejectInvalid('PaymentFailed', paymentOutcomeProblems(event));
      const status = await orders.settle(ctx.tx, event, { kind: 'failed', reason: event.reason }, contextOf(ctx));
      ctx.logger.info({ orderId: event.orderId, status }, 'order settled');
    },
  };
}
