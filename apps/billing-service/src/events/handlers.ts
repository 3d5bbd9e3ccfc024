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
      logger.info({ userId: event.userId }, 'account opened');
    },
    OrderPlaced: async (event, { tx, eventContext, logger }) => {
      rejectInvalid('OrderPlaced', orderPlacedProblems(event));
      const outcome = await ledger.chargeOrder(tx, event, eventContext);
      logger.info({ orderId: event.orderId, outcome }, 'order charge decided');
    },
  };
}
