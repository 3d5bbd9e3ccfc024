import type { OrderPaid, OrderPaymentFailed, UserCreated } from '@eventflow/events';
import { PoisonMessageError, RetryableError } from '@eventflow/platform';
import { orderPaidEmail, orderPaymentFailedEmail, shouldWaitForRecipient, type Email } from '../domain/emails.js';
import * as mailbox from '../persistence/mailbox.js';
import type { MessageView } from '../persistence/mailbox.js';
import type { Db, EventTx } from '../persistence/prisma.js';
import * as recipients from '../persistence/recipients.js';

export { orderMessageChannel, type MessageKind, type MessageView } from '../persistence/mailbox.js';

/** "Sending" an e-mail stores it; the list of stored messages is what the API shows. */
export class Mailbox {
  constructor(
    private readonly db: Db,
    private readonly options: { recipientWaitMs: number; now?: () => number },
  ) {}

  /**
   * UserCreated: the user id is the business key. A user is created once, so a second
   * UserCreated for the same user (a replay re-published with a new event id, which the inbox
   * cannot recognise) changes nothing, as in billing's openAccount.
   */
  async rememberRecipient(tx: EventTx, event: UserCreated): Promise<'recorded' | 'already-known'> {
    const recorded = await recipients.rememberRecipient(tx, { userId: event.userId, email: event.email, name: event.name });
    return recorded ? 'recorded' : 'already-known';
  }

  /** Exactly one e-mail per order: messages.order_id is unique and checked first. */
  async sendOrderOutcome(tx: EventTx, event: OrderPaid | OrderPaymentFailed): Promise<'sent' | 'already-sent'> {
    const { sent, recipient } = await mailbox.orderMessageContext(tx, event.orderId, event.userId);
    if (sent) return 'already-sent';
    if (!recipient) {
      const now = (this.options.now ?? Date.now)();
      if (shouldWaitForRecipient(event.metadata.occurredAt, now, this.options.recipientWaitMs)) {
        throw new RetryableError(`recipient ${event.userId} not known yet; its UserCreated may not have arrived`);
      }
      throw new PoisonMessageError(`no address for user ${event.userId}: the e-mail for order ${event.orderId} cannot be sent`);
    }
    const paid = 'paidAt' in event;
    const email = paid
      ? orderPaidEmail(recipient.name, event.orderId, event.price, event.balanceAfter)
      : orderPaymentFailedEmail(recipient.name, event.orderId, event.price, event.reason);
    await mailbox.storeOrderMessage(tx, {
      userId: event.userId,
      recipient: recipient.email,
      kind: paid ? 'ORDER_PAID' : 'ORDER_PAYMENT_FAILED',
      orderId: event.orderId,
      amount: BigInt(event.price),
      ...email,
    });
    return 'sent';
  }

  sendDirect(userId: string, recipient: string, email: Email): Promise<MessageView> {
    return mailbox.storeDirectMessage(this.db, { userId, recipient, ...email });
  }

  list(userId: string, filter: { orderId?: string | undefined; limit: number; offset: number }): Promise<{ items: MessageView[]; total: number }> {
    return mailbox.listMessages(this.db, userId, filter);
  }
}
