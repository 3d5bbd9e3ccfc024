import { randomUUID } from 'node:crypto';
import { toMinorUnits } from '@eventflow/platform';
import { waitersPresentSql } from '@eventflow/platform/db';
import type { Email } from '../domain/emails.js';
import type { EventTx, Tx } from './prisma.js';
import type { Recipient } from './recipients.js';

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

// The per-event statements (an order's e-mail) are raw SQL, two per e-mail (what the decision
// needs, then the message): through the ORM they cost several times the CPU of the statements, and
// each round trip of a consumer's transaction waits its turn on a busy machine (docs/performance.md).

/** What an order's e-mail needs, in one statement: whether it was sent already, and the user's address (null: not known yet). */
export async function orderMessageContext(tx: EventTx, orderId: string, userId: string): Promise<{ sent: boolean; recipient: Recipient | null }> {
  const [row] = await tx.$queryRawUnsafe<Array<{ sent: boolean; userId: string | null; email: string | null; name: string | null }>>(
    `SELECT EXISTS (SELECT 1 FROM messages WHERE order_id = $1::uuid) AS sent, r.user_id AS "userId", r.email, r.name
     FROM (SELECT 1) AS one LEFT JOIN recipients r ON r.user_id = $2::uuid`,
    orderId,
    userId,
  );
  const recipient = row?.userId && row.email !== null && row.name !== null ? { userId: row.userId, email: row.email, name: row.name } : null;
  return { sent: row?.sent ?? false, recipient };
}

/** Stores an order's e-mail and, at commit, tells every replica's listener (GET /notifications/messages?orderId= with Prefer: wait answers then). */
export async function storeOrderMessage(
  tx: EventTx,
  message: { userId: string; recipient: string; kind: 'ORDER_PAID' | 'ORDER_PAYMENT_FAILED'; orderId: string; amount: bigint } & Email,
): Promise<void> {
  await tx.$executeRawUnsafe(
    `WITH message AS (
       INSERT INTO messages (id, user_id, recipient, kind, subject, body, order_id, amount)
       VALUES ($3::uuid, $4::uuid, $5, $6::"MessageKind", $7, $8, $2::uuid, $9)
     )
     SELECT pg_notify($1, $2::uuid::text) WHERE ${waitersPresentSql('$1')}`,
    orderMessageChannel,
    message.orderId,
    randomUUID(),
    message.userId,
    message.recipient,
    message.kind,
    message.subject,
    message.body,
    message.amount,
  );
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
