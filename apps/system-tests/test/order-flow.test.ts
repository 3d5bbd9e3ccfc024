import { describe, expect, it } from 'vitest';
import { balanceOf, deposit, newUser, placeOrder, waitForEmail, waitForFinalOrder } from './support.js';

describe('order flow across the four services', () => {
  it('charges an order the balance covers, refuses one it does not, and mails each outcome once', async () => {
    const user = await newUser();
    await deposit(user, 10_000);
    expect(await balanceOf(user)).toBe(10_000);

    const affordable = await placeOrder(user, 7_500);
    expect(affordable.status).toBe('PENDING_PAYMENT');
    const paid = await waitForFinalOrder(user, affordable.id);
    expect(paid.status).toBe('PAID');
    expect(await balanceOf(user)).toBe(2_500);
    const [success, ...extraSuccess] = await waitForEmail(user, affordable.id);
    expect(extraSuccess).toEqual([]);
    expect(success).toMatchObject({ kind: 'ORDER_PAID', recipient: user.email, orderId: affordable.id });
    expect(success?.body).toContain('75.00');

    const tooExpensive = await placeOrder(user, 2_501);
    const failed = await waitForFinalOrder(user, tooExpensive.id);
    expect(failed).toMatchObject({ status: 'PAYMENT_FAILED', failureReason: 'INSUFFICIENT_FUNDS' });
    expect(await balanceOf(user)).toBe(2_500);
    const [failure, ...extraFailure] = await waitForEmail(user, tooExpensive.id);
    expect(extraFailure).toEqual([]);
    expect(failure).toMatchObject({ kind: 'ORDER_PAYMENT_FAILED', recipient: user.email, orderId: tooExpensive.id });
  });
});
