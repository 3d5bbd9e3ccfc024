import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, balanceOf, deposit, newUser, waitForFinalOrder } from './support.js';

const problemType = (slug: string) => `https://arch.homework/problems/${slug}`;

describe('Idempotency-Key bound to its request, through the entry point', () => {
  it('replays the same request (200), refuses the key for another request (422) and a withdrawal without a key (428)', async () => {
    const user = await newUser();
    const call = api();
    const key = { 'idempotency-key': randomUUID() };
    const first = await call<{ id: string }>('POST', '/billing/accounts/me/deposits', { token: user.token, body: { amount: 1_000 }, headers: key });
    const again = await call<{ id: string }>('POST', '/billing/accounts/me/deposits', { token: user.token, body: { amount: 1_000 }, headers: key });
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.id).toBe(first.body.id);

    let orderId = '';
    for (const [path, body] of [
      ['/billing/accounts/me/deposits', { amount: 999 }],
      ['/billing/accounts/me/withdrawals', { amount: 1_000 }],
      ['/orders', { price: 1_000 }],
    ] as const) {
      const reused = await call<{ id: string }>('POST', path, { token: user.token, body, headers: key });
      if (path === '/orders') orderId = reused.body.id;
      // Orders live in another service with its own keys: the key is new there.
      const expected = path === '/orders' ? 201 : 422;
      expect(reused.status, path).toBe(expected);
      if (expected === 422) {
        expect(reused.headers.get('content-type')).toContain('application/problem+json');
        expect(reused.body).toMatchObject({ status: 422, type: problemType('idempotency-key-reused') });
      }
    }
    const unkeyed = await call('POST', '/billing/accounts/me/withdrawals', { token: user.token, body: { amount: 1 } });
    expect(unkeyed.status).toBe(428);
    expect(unkeyed.headers.get('content-type')).toContain('application/problem+json');
    expect(unkeyed.body).toMatchObject({ status: 428, type: problemType('idempotency-key-required') });
    // One deposit of 1,000 (not two), no withdrawal: the order of 1,000 is charged in full and leaves 0.
    // (Awaited: billing charges it asynchronously, and with a fast system before the balance is read.)
    expect((await waitForFinalOrder(user, orderId)).status).toBe('PAID');
    expect(await balanceOf(user)).toBe(0);
  });

  it('gives 12 concurrent withdrawals and 12 concurrent orders with one key each one effect', async () => {
    const user = await newUser();
    await deposit(user, 1_000);
    const call = api();
    const withdrawalKey = { 'idempotency-key': randomUUID() };
    const orderKey = { 'idempotency-key': randomUUID() };
    const [withdrawals, orders] = await Promise.all([
      Promise.all(Array.from({ length: 12 }, () => call<{ id: string }>('POST', '/billing/accounts/me/withdrawals', { token: user.token, body: { amount: 300 }, headers: withdrawalKey }))),
      Promise.all(Array.from({ length: 12 }, () => call<{ id: string }>('POST', '/orders', { token: user.token, body: { price: 5_000 }, headers: orderKey }))),
    ]);
    for (const answers of [withdrawals, orders]) {
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      expect(answers.filter((a) => a.status === 200)).toHaveLength(11);
      expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    }
    expect(await balanceOf(user)).toBe(700);
    const listed = await call<{ total: number }>('GET', '/orders', { token: user.token });
    expect(listed.body.total).toBe(1);
  });
});

describe('identifiers, request ids and text at the entry point', () => {
  it('answers an id in any spelling but the canonical one with 400 problem+json on every service, never 500', async () => {
    const user = await newUser();
    const call = api();
    const spellings = (id: string) => [`urn:uuid:${id}`, id.toUpperCase(), `{${id}}`, id.replaceAll('-', ''), `${id}0`, ` ${id}`];
    const paths = (id: string) => [
      `/users/${id}`,
      `/billing/accounts/${id}`,
      `/billing/accounts/me/transactions?orderId=${encodeURIComponent(id)}`,
      `/orders/${id}`,
      `/notifications/messages?orderId=${encodeURIComponent(id)}`,
    ];
    for (const spelling of spellings(user.id)) {
      for (const path of paths(spelling)) {
        const response = await call('GET', path, { token: user.token });
        expect(response.status, path).toBe(400);
        expect(response.headers.get('content-type'), path).toContain('application/problem+json');
      }
    }
    expect((await call('GET', `/users/${user.id}`, { token: user.token })).status).toBe(200);
  });

  it('keeps a client x-request-id only when it is a UUID', async () => {
    const call = api();
    const id = randomUUID();
    expect((await call('GET', '/users/me', { headers: { 'x-request-id': id } })).headers.get('x-request-id')).toBe(id);
    const forged = 'forged" level=error msg="injected';
    const replaced = (await call('GET', '/users/me', { headers: { 'x-request-id': forged } })).headers.get('x-request-id');
    expect(replaced).not.toBe(forged);
    expect(replaced).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('answers NUL (U+0000) in a text field with 400 problem+json, not 500, and stores nothing', async () => {
    const call = api();
    const email = `nul-${randomUUID()}@example.com`;
    const registration = await call('POST', '/users', { body: { email, password: 'correct horse battery', name: 'Nul\u0000Name' } });
    expect(registration.status).toBe(400);
    expect(registration.headers.get('content-type')).toContain('application/problem+json');
    expect((await call('POST', '/auth/login', { body: { email, password: 'correct horse battery' } })).status).toBe(401);

    const user = await newUser();
    for (const body of [
      { subject: 'Hello\u0000', body: 'text' },
      { subject: 'Hello', body: 'te\u0000xt' },
    ]) {
      const message = await call('POST', '/notifications/messages', { token: user.token, body });
      expect(message.status).toBe(400);
      expect(message.headers.get('content-type')).toContain('application/problem+json');
    }
    const mailbox = await call<{ items: Array<{ kind: string }> }>('GET', '/notifications/messages', { token: user.token });
    expect(mailbox.body.items.filter((m) => m.kind === 'DIRECT')).toEqual([]);
  });
});
