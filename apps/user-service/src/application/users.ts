import { randomUUID } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { EventContext } from '@eventflow/messaging';
import { appendToOutbox, outboxRow } from '@eventflow/messaging';
import { InvalidCredentialsError, normalizeEmail, normalizeName } from '../domain/user.js';
import type { Db } from '../persistence/prisma.js';
import * as users from '../persistence/users.js';
import type { UserView } from '../persistence/users.js';
import { HashingSlots } from './hashing.js';
import type { IssuedToken } from './tokens.js';

export type { UserView } from '../persistence/users.js';
export { EmailTakenError, InvalidCredentialsError } from '../domain/user.js';
export { HashingSlots, PasswordHashingBusyError } from './hashing.js';

// argon2id with the library's defaults (19 MiB, 2 passes): OWASP's recommended minimum.
const hashPassword = (password: string) => hash(password);

/** User-service's use cases: registration (with its UserCreated) and login. */
export class Users {
  // Verifying against a real hash when the user is unknown keeps login timing from telling which e-mails exist.
  private readonly decoyHash = hashPassword(randomUUID());

  constructor(
    private readonly db: Db,
    private readonly producer: string,
    private readonly issueToken: (user: { id: string; email: string }) => Promise<IssuedToken>,
    /** Bounds the argon2 work of registrations and logins (ARGON2_MAX_CONCURRENT/QUEUE). */
    private readonly hashing = new HashingSlots(2, 8),
  ) {}

  async register(input: { email: string; password: string; name: string }, context: Omit<EventContext, 'producer'>): Promise<UserView> {
    const email = normalizeEmail(input.email);
    const name = normalizeName(input.name);
    const passwordHash = await this.hashing.run(() => hashPassword(input.password));
    return this.db.$transaction(async (tx) => {
      const user = await users.insertUser(tx, { id: randomUUID(), email, name, passwordHash });
      await appendToOutbox(
        tx,
        outboxRow('UserCreated', { userId: user.id, email, name, createdAt: user.createdAt.getTime() }, { ...context, producer: this.producer }),
      );
      return users.userView(user);
    });
  }

  async login(emailInput: string, password: string): Promise<IssuedToken & { userId: string }> {
    const email = normalizeEmail(emailInput);
    const user = await users.findUserByEmail(this.db, email);
    const stored = user?.passwordHash ?? (await this.decoyHash);
    const valid = await this.hashing.run(() => verify(stored, password));
    if (!user || !valid) throw new InvalidCredentialsError(user?.id);
    return { ...(await this.issueToken({ id: user.id, email: user.email })), userId: user.id };
  }

  get(id: string): Promise<UserView | null> {
    return users.findUser(this.db, id);
  }
}
