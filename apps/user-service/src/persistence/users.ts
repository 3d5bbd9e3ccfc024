import { EmailTakenError } from '../domain/user.js';
import type { Tx } from './prisma.js';

/**
 * The user aggregate's storage: queries, the row-to-view mapping, and the unique e-mail index
 * (Prisma's P2002) reported as the domain's EmailTakenError.
 */

export interface UserView {
  id: string;
  email: string;
  name: string;
  createdAt: string;
}

type UserRow = Awaited<ReturnType<Tx['user']['create']>>;

export const userView = (user: UserRow): UserView => ({ id: user.id, email: user.email, name: user.name, createdAt: user.createdAt.toISOString() });

/** Inserts the user; an e-mail that is already registered fails with EmailTakenError. */
export async function insertUser(tx: Tx, user: { id: string; email: string; name: string; passwordHash: string }): Promise<UserRow> {
  try {
    return await tx.user.create({ data: user });
  } catch (error) {
    if ((error as { code?: string }).code === 'P2002') throw new EmailTakenError(user.email);
    throw error;
  }
}

export const findUserByEmail = (db: Tx, email: string): Promise<UserRow | null> => db.user.findUnique({ where: { email } });

export async function findUser(db: Tx, id: string): Promise<UserView | null> {
  const user = await db.user.findUnique({ where: { id } });
  return user && userView(user);
}
