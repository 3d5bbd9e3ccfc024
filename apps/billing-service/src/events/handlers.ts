import type { EventHandlers } from '@eventflow/messaging';
import { rejectInvalid } from '@eventflow/platform';
import type { Ledger } from '../application/ledger.js';
import { orderPlacedProblems, userCreatedProblems } from '../domain/account.js';
import type { EventTx } from '../persistence/prisma.js';

export const billingConsumerGroup = 'billing-service';

/** What billing does with the events it consumes; each runs inside the inbox transaction. */
export function billingHandlers(ledger: Ledger): EventHandlers<EventTx> {
  return {
    UserCreated: async (event, { tx, logger }) => {
      rejectInvalid('UserCreated', userCreatedProblems(event));
      await ledger.openAccount(tx, event);
      logger.debug({ userId: event.userId }, 'account opened');
    },
    OrderPlaced: async (event, { tx, eventContext, logger }) => {
      rejectInvalid('OrderPlaced', orderPlacedProblems(event));
      const outcome = await ledger.chargeOrder(tx, event, eventContext);
      // Per-event lines are debug: each would be a synchronous write to stdout (pino was 4-8 % of the
      // consumers' busy time, docs/performance.md). Outcomes are counted in
      // eventflow_events_published_total{event_type="PaymentSucceeded"|"PaymentFailed"}.
      logger.debug({ orderId: event.orderId, outcome }, 'order charge decided');
    },
  };
}
