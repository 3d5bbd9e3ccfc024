import type { EventHandlers } from '@eventflow/messaging';
import type { Mailbox } from '../application/mailbox.js';
import type { Tx } from '../persistence/prisma.js';

export const notificationConsumerGroup = 'notification-service';

export function notificationHandlers(mailbox: Mailbox): EventHandlers<Tx> {
  return {
    UserCreated: async (event, { tx, logger }) => {
      await mailbox.rememberRecipient(tx, event);
      logger.info({ userId: event.userId }, 'recipient recorded');
    },
    OrderPaid: async (event, { tx, logger }) => {
      logger.info({ orderId: event.orderId, result: await mailbox.sendOrderOutcome(tx, event) }, 'success e-mail');
    },
    OrderPaymentFailed: async (event, { tx, logger }) => {
      logger.info({ orderId: event.orderId, result: await mailbox.sendOrderOutcome(tx, event) }, 'failure e-mail');
    },
  };
}
