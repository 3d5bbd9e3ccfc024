import { randomUUID } from 'node:crypto';
import { toMinorUnits } from '@eventflow/platform';
import type { Email } from '../domain/emails.js';
import type { Tx } from './prisma.js';

/**
 * The mailbox's storage: stored messages, their row-to-view mapping, the one-e-mail-per-order
 * lookup (messages.order_id is unique) and the NOTIFY that wakes waiting readers.
 */

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

export async function orderMessageExists(tx: Tx, orderId: string): Promise<boolean> {
  return (await tx.message.findUnique({ where: { orderId } })) !== null;
}

/** Stores an order's e-mail and, at commit, tells every replica's listener (GET /notifications/messages?orderId= with Prefer: wait answers then). */
export async function storeOrderMessage(
  tx: Tx,
  message: { userId: string; recipient: string; kind: 'ORDER_PAID' | 'ORDER_PAYMENT_FAILED'; orderId: string; amount: bigint } & Email,
): Promise<void> {
  await tx.message.create({ data: { id: randomUUID(), ...message } });
  await tx.$executeRaw`SELECT pg_notify(${orderMessageChannel}, ${message.orderId})`;
}

export async function storeDirectMessage(db: Tx, message: { userId: string; recipient: string } & Email): Promise<MessageView> {
  return messageView(await db.message.create({ data: { id: randomUUID(), kind: 'DIRECT', ...message } }));
}

/** The user's messages (optionally of one order), newest first, and how many there are. */
export async function listMessages(
  db: Tx,
  userId: string,
  filter: { orderId?: string | undefined; limit: number; offset: number },
): Promise<{ items: MessageView[]; total: number }> {
  const where = { userId, ...(filter.orderId ? { orderId: filter.orderId } : {}) };
  const [rows, total] = await Promise.all([
    db.message.findMany({ where, orderBy: [{ sentAt: 'desc' }, { id: 'desc' }], take: filter.limit, skip: filter.offset }),
    db.message.count({ where }),
  ]);
  return { items: rows.map(messageView), total };
}
