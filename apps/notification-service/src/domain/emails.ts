/** What the e-mails say. Kept apart from storage and transport so the wording is easy to test. */
export interface Email {
  subject: string;
  body: string;
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
