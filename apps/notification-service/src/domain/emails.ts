import { check, maxAmount, problemsOf } from '@eventflow/platform';

/** What the e-mails say. Kept apart from storage and transport so the wording is easy to test. */
export interface Email {
  subject: string;
  body: string;
}

/** A direct message addressed to someone other than the caller. */
export class ForbiddenRecipientError extends Error {
  constructor() {
    super('You can only send messages to your own address.');
    this.name = 'ForbiddenRecipientError';
  }
}

/** Where a direct message goes: the caller's own address (the default); any other is refused. */
export function directRecipient(callerEmail: string, requested: string | undefined): string {
  const to = requested?.toLowerCase() ?? callerEmail;
  if (to.toLowerCase() !== callerEmail.toLowerCase()) throw new ForbiddenRecipientError();
  return to;
}

/** 123456 minor units → "1234.56". */
export function formatAmount(minorUnits: number): string {
  const sign = minorUnits < 0 ? '-' : '';
  const abs = Math.abs(minorUnits);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** `balanceAfter` is null for OrderPaid events written before the field existed (schema version 1). */
export function orderPaidEmail(name: string, orderId: string, price: number, balanceAfter: number | null = null): Email {
  const balance = balanceAfter === null ? '' : ` Your balance is now ${formatAmount(balanceAfter)}.`;
  return {
    subject: `Order ${orderId} is paid`,
    body: `Hello ${name},\n\nthank you! Your order ${orderId} for ${formatAmount(price)} has been paid and is on its way.${balance}\n`,
  };
}

const reasons: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'your account balance is lower than the price',
  ACCOUNT_NOT_FOUND: 'we could not find your billing account',
};

export function orderPaymentFailedEmail(name: string, orderId: string, price: number, reason: string): Email {
  return {
    subject: `Order ${orderId} could not be paid`,
    body:
      `Hello ${name},\n\nwe are sorry: your order ${orderId} for ${formatAmount(price)} could not be paid because ` +
      `${reasons[reason] ?? `of ${reason}`}. Top up your account and order again.\n`,
  };
}

/** The first delivery of an outcome may overtake the user's UserCreated; wait for it a while. */
export function shouldWaitForRecipient(eventOccurredAt: number, now: number, waitMs: number): boolean {
  return now - eventOccurredAt < waitMs;
}

/** What makes an event usable by notification-service; anything else is dead-lettered rather than retried. */
export const userCreatedProblems = (event: { userId: string; email: string }): string[] =>
  problemsOf(check.uuid('userId', event.userId), check.nonEmpty('email', event.email));

/**
 * An order outcome. The failure reason is free text on OrderPaymentFailed: a reason this build
 * does not know still gets an e-mail (see orderPaymentFailedEmail), only an empty one is invalid.
 */
export const orderOutcomeProblems = (event: { orderId: string; userId: string; price: number; reason?: string }): string[] =>
  problemsOf(
    check.uuid('orderId', event.orderId),
    check.uuid('userId', event.userId),
    check.positiveMinorUnits('price', event.price, maxAmount),
    event.reason === undefined ? undefined : check.nonEmpty('reason', event.reason),
  );
