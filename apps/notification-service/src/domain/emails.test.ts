import { describe, expect, it } from 'vitest';
import { ForbiddenRecipientError, directRecipient, formatAmount, orderOutcomeProblems, orderPaidEmail, orderPaymentFailedEmail, shouldWaitForRecipient, userCreatedProblems } from './emails.js';

describe('e-mail wording', () => {
  it('formats minor units as a decimal amount without floating point', () => {
    expect([formatAmount(0), formatAmount(5), formatAmount(1234), formatAmount(123456789)]).toEqual(['0.00', '0.05', '12.34', '1234567.89']);
  });

  it('the success e-mail names the order and the amount', () => {
    const email = orderPaidEmail('Ada', 'o-1', 1500);
    expect(email.subject).toBe('Order o-1 is paid');
    expect(email.body).toContain('o-1');
    expect(email.body).toContain('15.00');
  });

  it('the success e-mail tells the balance when the event carries it (OrderPaid version 2), and nothing when it does not', () => {
    expect(orderPaidEmail('Ada', 'o-1', 1500, 8_500).body).toContain('Your balance is now 85.00.');
    expect(orderPaidEmail('Ada', 'o-1', 1500, null).body).not.toContain('balance');
  });

  it('the failure e-mail explains a known reason in words', () => {
    const email = orderPaymentFailedEmail('Ada', 'o-2', 99_999, 'INSUFFICIENT_FUNDS');
    expect(email.subject).toBe('Order o-2 could not be paid');
    expect(email.body).toContain('999.99');
    expect(email.body).toContain('balance is lower than the price');
  });

  it('the failure e-mail still says something for a reason it does not know', () => {
    expect(orderPaymentFailedEmail('Ada', 'o-3', 1, 'CARD_STOLEN').body).toContain('CARD_STOLEN');
  });

  it('waits for an unknown recipient only while the event is young', () => {
    expect(shouldWaitForRecipient(0, 10, 100)).toBe(true);
    expect(shouldWaitForRecipient(0, 100, 100)).toBe(false);
  });
});

describe('event validation', () => {
  const ok = { orderId: '00000000-0000-4000-8000-000000000001', userId: '00000000-0000-4000-8000-000000000002', price: 1500 };

  it('accepts a well-formed outcome, including a failure reason this build does not know', () => {
    expect(orderOutcomeProblems(ok)).toEqual([]);
    expect(orderOutcomeProblems({ ...ok, reason: 'CARD_STOLEN' })).toEqual([]);
  });

  it('names every invalid field', () => {
    expect(orderOutcomeProblems({ ...ok, orderId: 'x', price: 0, reason: '' })).toEqual([
      'orderId is not a UUID: "x"',
      'price must be an integer in 1..10000000000, got 0',
      'reason must not be empty',
    ]);
    expect(userCreatedProblems({ userId: 'nope', email: 'a@example.com' })).toEqual(['userId is not a UUID: "nope"']);
  });
});

describe('direct messages', () => {
  it("go to the caller's own address by default, in any case", () => {
    expect(directRecipient('Ann@Example.com', undefined)).toBe('Ann@Example.com');
    expect(directRecipient('Ann@Example.com', 'ANN@example.COM')).toBe('ann@example.com');
  });

  it('refuse any other recipient', () => {
    expect(() => directRecipient('ann@example.com', 'bob@example.com')).toThrow(ForbiddenRecipientError);
  });
});
