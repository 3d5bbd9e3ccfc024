import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { apiClient, waitFor } from '@eventflow/testing';

export const api = () => apiClient(inject('baseUrl'));

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

interface Order {
  id: string;
  status: 'PENDING_PAYMENT' | 'PAID' | 'PAYMENT_FAILED';
  price: number;
  failureReason: string | null;
}

interface Message {
  kind: string;
  orderId: string | null;
  subject: string;
  body: string;
  recipient: string;
}

/** Registers and logs in a fresh user, then waits until billing has opened the account. */
export async function newUser(): Promise<TestUser> {
  const call = api();
  const email = `it-${randomUUID()}@example.com`;
  const created = await call<{ id: string }>('POST', '/users', { body: { email, password: 'correct horse battery', name: 'Integration Test' } });
  if (created.status !== 201) throw new Error(`registration answered ${created.status}: ${JSON.stringify(created.body)}`);
  const login = await call<{ accessToken: string }>('POST', '/auth/login', { body: { email, password: 'correct horse battery' } });
  if (login.status !== 200) throw new Error(`login answered ${login.status}`);
  const user = { id: created.body.id, email, token: login.body.accessToken };
  await waitFor('the billing account to be opened from UserCreated', async () => ((await balanceOf(user)) === 0 ? true : undefined));
  return user;
}

export async function balanceOf(user: TestUser): Promise<number | undefined> {
  const response = await api()<{ balance: number }>('GET', '/billing/accounts/me', { token: user.token });
  return response.status === 200 ? response.body.balance : undefined;
}

export async function deposit(user: TestUser, amount: number): Promise<void> {
  const response = await api()('POST', '/billing/accounts/me/deposits', { token: user.token, body: { amount } });
  if (response.status !== 201) throw new Error(`deposit answered ${response.status}: ${JSON.stringify(response.body)}`);
}

export async function placeOrder(user: TestUser, price: number): Promise<Order> {
  const response = await api()<Order>('POST', '/orders', { token: user.token, body: { price } });
  if (response.status !== 201) throw new Error(`order answered ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

export async function orderOf(user: TestUser, orderId: string): Promise<Order> {
  const response = await api()<Order>('GET', `/orders/${orderId}`, { token: user.token });
  if (response.status !== 200) throw new Error(`GET order answered ${response.status}`);
  return response.body;
}

export function waitForFinalOrder(user: TestUser, orderId: string, timeoutMs = 30_000): Promise<Order> {
  return waitFor(
    `order ${orderId} to leave PENDING_PAYMENT`,
    async () => {
      const order = await orderOf(user, orderId);
      return order.status === 'PENDING_PAYMENT' ? undefined : order;
    },
    { timeoutMs, intervalMs: 150 },
  );
}

export async function messagesAbout(user: TestUser, orderId: string): Promise<Message[]> {
  const response = await api()<{ items: Message[] }>('GET', `/notifications/messages?orderId=${orderId}`, { token: user.token });
  if (response.status !== 200) throw new Error(`GET messages answered ${response.status}`);
  return response.body.items;
}

export function waitForEmail(user: TestUser, orderId: string, timeoutMs = 30_000): Promise<Message[]> {
  return waitFor(`the e-mail about order ${orderId}`, async () => {
    const messages = await messagesAbout(user, orderId);
    return messages.length > 0 ? messages : undefined;
  }, { timeoutMs, intervalMs: 150 });
}
