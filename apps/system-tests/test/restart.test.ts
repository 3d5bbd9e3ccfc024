import { describe, expect, it } from 'vitest';
import { startReadyService, stopService } from '@eventflow/system-harness';
import { balanceOf, deposit, newUser, orderOf, placeOrder, waitForEmail, waitForFinalOrder } from './support.js';

describe('restarts lose nothing', () => {
  it('orders placed while billing is down are charged once it is back', async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    await stopService('billing-service');
    let restarted = false;
    try {
      const orders = await Promise.all([placeOrder(user, 100), placeOrder(user, 200), placeOrder(user, 5_000)]);
      for (const order of orders) expect((await orderOf(user, order.id)).status).toBe('PENDING_PAYMENT');
      await startReadyService('billing-service');
      restarted = true;
      const settled = await Promise.all(orders.map((order) => waitForFinalOrder(user, order.id, 60_000)));
      expect(settled.map((o) => o.status)).toEqual(['PAID', 'PAID', 'PAYMENT_FAILED']);
      expect(await balanceOf(user)).toBe(700);
    } finally {
      if (!restarted) await startReadyService('billing-service');
    }
  });

  it('a SIGTERM to order-service under traffic loses no accepted order', async () => {
    const user = await newUser();
    await deposit(user, 100_000);
    // Four clients keep ordering; once five orders are accepted the service gets SIGTERM mid-traffic.
    const accepted: Array<Awaited<ReturnType<typeof placeOrder>>> = [];
    let refused = 0;
    let stopping: Promise<void> | undefined;
    const client = async () => {
      for (let i = 0; i < 15; i++) {
        try {
          accepted.push(await placeOrder(user, 100 + i));
          if (accepted.length >= 5) stopping ??= stopService('order-service');
        } catch {
          refused += 1; // closing or closed: the client would retry later
        }
      }
    };
    await Promise.all([client(), client(), client(), client()]);
    await stopping;
    expect(accepted.length).toBeGreaterThanOrEqual(5);
    expect(refused).toBeGreaterThan(0);
    await startReadyService('order-service');

    const settled = await Promise.all(accepted.map((order) => waitForFinalOrder(user, order.id, 60_000)));
    expect(settled.every((o) => o.status === 'PAID')).toBe(true);
    const charged = settled.reduce((sum, o) => sum + o.price, 0);
    expect(await balanceOf(user)).toBe(100_000 - charged);
    for (const order of settled) expect(await waitForEmail(user, order.id)).toHaveLength(1);
  });
});
