import type { EventTx } from './prisma.js';

/** Recipients: the address and name of every user, learned from UserCreated; the user id is the key. */

export interface Recipient {
  userId: string;
  email: string;
  name: string;
}

/** Records the recipient unless the user is known already; false when it was. */
export async function rememberRecipient(tx: EventTx, recipient: Recipient): Promise<boolean> {
  const inserted = await tx.$executeRawUnsafe(
    'INSERT INTO recipients (user_id, email, name) VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING',
    recipient.userId,
    recipient.email,
    recipient.name,
  );
  return inserted === 1;
}
