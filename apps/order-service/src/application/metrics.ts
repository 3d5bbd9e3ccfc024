import { Counter } from 'prom-client';

/** Orders reaching their final state (counted when the settling transaction writes it). */
export const ordersSettled = new Counter({
  name: 'eventflow_orders_settled_total',
  help: 'Orders that left PENDING_PAYMENT, by final state',
  labelNames: ['status'] as const,
});
