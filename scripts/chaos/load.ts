/**
 * The chaos run's clients: funded users who place orders at a steady rate, deposit and
 * withdraw, some requests carrying an Idempotency-Key that is sent twice at once or re-sent after
 * a client-side timeout. Every request's outcome is recorded, as the client saw it.
 */
import { randomUUID } from 'node:crypto';
import type { Random } from './random.js';

export interface ChaosUser {
  id: string;
  email: string;
  token: string;
}

export type OperationKind = 'order' | 'deposit' | 'withdrawal';
/** How a request was sent: once; with a key, once; with a key, twice at once; with a key, after a client timeout again. */
export type Variant = 'plain' | 'keyed' | 'duplicate' | 'resent-after-timeout';

export interface Attempt {
  /** HTTP status, or 0 when no answer came (timeout, connection failure). */
  status: number;
  /** The order or ledger entry id of a 2xx answer. */
  id?: string;
  error?: string;
}

export interface Operation {
  kind: OperationKind;
  variant: Variant;
  userId: string;
  amount: number;
  key?: string;
  attempts: Attempt[];
}

const answerTimeoutMs = 30_000;

export class Client {
  constructor(private readonly baseUrl: string) {}

  async call(method: string, path: string, options: { token?: string; body?: unknown; key?: string; timeoutMs?: number } = {}): Promise<Attempt & { body?: unknown }> {
    const headers: Record<string, string> = {};
    if (options.token) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.key) headers['idempotency-key'] = options.key;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? null : JSON.stringify(options.body),
        signal: AbortSignal.timeout(options.timeoutMs ?? answerTimeoutMs),
      });
      const text = await response.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const id = response.ok && body && typeof body === 'object' && 'id' in body ? String((body as { id: unknown }).id) : undefined;
      return { status: response.status, ...(id ? { id } : {}), body };
    } catch (error) {
      return { status: 0, error: (error as Error).name === 'TimeoutError' ? 'client timeout' : (error as Error).message };
    }
  }
}

/** Registers and logs in a user; retried, since a fault may be under way. */
export async function registerUser(client: Client, runId: string, index: number): Promise<ChaosUser> {
  const email = `chaos-${runId}-${index}@example.com`;
  const password = 'chaos monkey battery';
  for (let attempt = 1; ; attempt++) {
    const created = await client.call('POST', '/users', { body: { email, password, name: `Chaos ${index}` } });
    if (created.status === 201 || created.status === 409) {
      const login = await client.call('POST', '/auth/login', { body: { email, password } });
      const body = login.body as { accessToken?: string; userId?: string } | undefined;
      if (login.status === 200 && body?.accessToken) {
        const id = created.id ?? JSON.parse(Buffer.from(body.accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')).sub;
        return { id, email, token: body.accessToken };
      }
    }
    if (attempt >= 20) throw new Error(`could not register ${email}: ${created.status} ${JSON.stringify(created.body ?? created.error)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

export interface Mix {
  /** Per order: chance of a deposit, of a withdrawal, in the same tick. */
  depositChance: number;
  withdrawalChance: number;
  prices: [number, number];
  deposits: [number, number];
  withdrawals: [number, number];
}

export const defaultMix: Mix = { depositChance: 0.2, withdrawalChance: 0.1, prices: [100, 4_000], deposits: [1_000, 6_000], withdrawals: [100, 3_000] };

/** Sends one operation in the chosen variant and records every attempt. */
export async function perform(client: Client, user: ChaosUser, kind: OperationKind, amount: number, variant: Variant, random: Random): Promise<Operation> {
  const path = kind === 'order' ? '/orders' : `/billing/accounts/me/${kind === 'deposit' ? 'deposits' : 'withdrawals'}`;
  const body = kind === 'order' ? { price: amount } : { amount };
  // A withdrawal must carry a key (428 without); a plain one sends it once, like any client.
  const key = variant === 'plain' && kind !== 'withdrawal' ? undefined : `chaos-${randomUUID()}`;
  const operation: Operation = { kind, variant, userId: user.id, amount, ...(key ? { key } : {}), attempts: [] };
  const send = (timeoutMs?: number) =>
    client.call('POST', path, { token: user.token, body, ...(key ? { key } : {}), ...(timeoutMs ? { timeoutMs } : {}) }).then(({ body: _body, ...attempt }) => attempt);
  if (variant === 'duplicate') {
    operation.attempts.push(...(await Promise.all([send(), send()])));
  } else if (variant === 'resent-after-timeout') {
    // The client gives up before the answer (which may or may not have been written), then re-sends.
    operation.attempts.push(await send(random.int(2, 40)));
    operation.attempts.push(await send());
  } else {
    operation.attempts.push(await send());
  }
  return operation;
}

export function chooseVariant(random: Random): Variant {
  const r = random.next();
  return r < 0.55 ? 'plain' : r < 0.75 ? 'keyed' : r < 0.88 ? 'duplicate' : 'resent-after-timeout';
}
