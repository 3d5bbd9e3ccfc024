import type { Tx } from './prisma.js';

/** Recipients: the address and name of every user, learned from UserCreated; the user id is the key. */

export interface Recipient {
  userId: string;
  email: string;
  name: string;
}

/** Records the recipient unless the user is known already; false when it was. */
export async function rememberRecipient(tx: Tx, recipient: Recipient): Promise<boolean> {
  const { count } = await tx.recipient.createMany({ data: [recipient], skipDuplicates: true });
  return count === 1;
}

export async function findRecipient(db: Tx, userId: string): Promise<Recipient | null> {
  const row = await db.recipient.findUnique({ where: { userId } });
  return row && { userId: row.userId, email: row.email, name: row.name };
}
