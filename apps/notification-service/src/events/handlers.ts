import type { EventHandlers } from '@eventflow/messaging';
import type { Mailbox } from '../application/mailbox.js';
import { rejectInvalid } from '@eventflow/platform';
import { orderOutcomeProblems, userCreatedProblems } from '../domain/emails.js';
import type { EventTx } from '../persistence/prisma.js';

export const notificationConsumerGroup = 'notification-service';

export function notificationHandlers(mailbox: Mailbox): EventHandlers<EventTx> {
  // Per-event lines are debug: each would be a synchronous write to stdout (pino was 4-8 % of the
  // consumers' busy time, docs/performance.md). E-mails are counted in eventflow_events_consumed_total{event_type, outcome="applied"}.
  return {
    UserCreated: async (event, { tx, logger }) => {
      rejectInvalid('UserCreated', userCreatedProblems(event));
      const result = await mailbox.rememberRecipient(tx, event);
      logger.debug({ userId: event.userId, result }, 'recipient');
    },
    OrderPaid: async (event, { tx, logger }) => {
      rejectInvalid('OrderPaid', orderOutcomeProblems(event));
      const result = await mailbox.sendOrderOutcome(tx, event);
      logger.debug({ orderId: event.orderId, result }, 'success e-mail');
    },
    OrderPaymentFailed: async (event, { tx, logger }) => {
      rejectInvalid('OrderPaymentFailed', orderOutcomeProblems(event));
      const result = await mailbox.sendOrderOutcome(tx, event);
      logger.debug({ orderId: event.orderId, result }, 'failure e-mail');
    },
  };
}
