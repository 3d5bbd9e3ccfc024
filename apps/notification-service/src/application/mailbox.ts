import { randomUUID } from 'node:crypto';
import type { OrderPaid, OrderPaymentFailed, UserCreated } from '@eventflow/events';
import { PoisonMessageError, RetryableError, toMinorUnits } from '@eventflow/platform';
import { orderPaidEmail, orderPaymentFailedEmail, shouldWaitForRecipient, type Email } from '../domain/emails.js';
import type { Db, Tx } from '../persistence/prisma.js';

export type MessageKind = 'ORDER_PAID' | 'ORDER_PAYMENT_FAILED' | 'DIRECT';

/** NOTIFY channel of notification-service's database: the order id whose e-mail was stored, at commit. */
export const orderMessageChannel = 'order_message_stored';

export interface MessageView {
  id: string;
  userId: string;
  recipient: string;
  kind: MessageKind;
  subject: string;
  body: string;
  orderId: string | null;
  amount: number | null;
  sentAt: string;
}

type MessageRow = Awaited<ReturnType<Tx['message']['create']>>;

const messageView = (row: MessageRow): MessageView => ({
  id: row.id,
  userId: row.userId,
  recipient: row.recipient,
  kind: row.kind,
  subject: row.subject,
  body: row.body,
  orderId: row.orderId,
  amount: row.amount === null ? null : toMinorUnits(row.amount),
  sentAt: row.sentAt.toISOString(),
});

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
  async rememberRecipient(tx: Tx, event: UserCreated): Promise<'recorded' | 'already-known'> {
    const { count } = await tx.recipient.createMany({ data: [{ userId: event.userId, email: event.email, name: event.name }], skipDuplicates: true });
    return count === 1 ? 'recorded' : 'already-known';
  }

  /** Exactly one e-mail per order: messages.order_id is unique and checked first. */
  async sendOrderOutcome(tx: Tx, event: OrderPaid | OrderPaymentFailed): Promise<'sent' | 'already-sent'> {
    if (await tx.message.findUnique({ where: { orderId: event.orderId } })) return 'already-sent';
    const recipient = await tx.recipient.findUnique({ where: { userId: event.userId } });
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
    await tx.message.create({
      data: {
        id: randomUUID(),
        userId: event.userId,
        recipient: recipient.email,
        kind: paid ? 'ORDER_PAID' : 'ORDER_PAYMENT_FAILED',
        orderId: event.orderId,
        amount: BigInt(event.price),
        ...email,
      },
    });
    // Delivered at commit to every replica's listener: GET /notifications/messages?orderId= with Prefer: wait answers then.
    await tx.$executeRaw`SELECT pg_notify(${orderMessageChannel}, ${event.orderId})`;
    return 'sent';
  }

  async sendDirect(userId: string, recipient: string, email: Email): Promise<MessageView> {
    const row = await this.db.message.create({ data: { id: randomUUID(), userId, recipient, kind: 'DIRECT', ...email } });
    return messageView(row);
  }

  async list(userId: string, filter: { orderId?: string | undefined; limit: number; offset: number }): Promise<{ items: MessageView[]; total: number }> {
    const where = { userId, ...(filter.orderId ? { orderId: filter.orderId } : {}) };
    const [rows, total] = await Promise.all([
      this.db.message.findMany({ where, orderBy: [{ sentAt: 'desc' }, { id: 'desc' }], take: filter.limit, skip: filter.offset }),
      this.db.message.count({ where }),
    ]);
    return { items: rows.map(messageView), total };
  }
}
