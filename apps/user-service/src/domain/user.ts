/** E-mail addresses are compared case-insensitively, so they are stored lower-cased and trimmed. */
export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export const normalizeName = (name: string): string => name.trim().replace(/\s+/g, ' ');

export class EmailTakenError extends Error {
  constructor(email: string) {
    super(`A user with e-mail ${email} already exists.`);
    this.name = 'EmailTakenError';
  }
}

export class InvalidCredentialsError extends Error {
  /** userId: the account the e-mail named, when it exists (for the audit log; never in the answer). */
  constructor(readonly userId?: string) {
    super('E-mail or password is wrong.');
    this.name = 'InvalidCredentialsError';
  }
}
