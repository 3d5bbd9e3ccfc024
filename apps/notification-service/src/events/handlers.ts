import type { EventHandlers } from '@eventflow/messaging';
import type { Mailbox } from '../application/mailbox.js';
import { rejectInvalid } from '@eventflow/platform';
import { orderOutcomeProblems, userCreatedProblems } from '../domain/emails.js';
import type { EventTx } from '../persistence/prisma.js';

export const notificationConsumerGroup = 'notification-service';

export function notificationHandlers(mailbox: Mailbox): EventHandlers<EventTx> {
  return {
    UserCreated: async (event, { tx, logger }) => {
      rejectInvalid('UserCreated', userCreatedProblems(event));
      logger.info({ userId: event.userId, result: await mailbox.rememberRecipient(tx, event) }, 'recipient');
    },
    OrderPaid: async (event, { tx, logger }) => {
      rejectInvalid('OrderPaid', orderOutcomeProblems(event));
      logger.info({ orderId: event.orderId, result: await mailbox.sendOrderOutcome(tx, event) }, 'success e-mail');
    },
    OrderPaymentFailed: async (event, { tx, logger }) => {
      rejectInvalid('OrderPaymentFailed', orderOutcomeProblems(event));
      logger.info({ orderId: event.orderId, result: await mailbox.sendOrderOutcome(tx, event) }, 'failure e-mail');
    },
  };
}
