/**
 * Load generators for POST /orders: open-loop (requests leave on a fixed schedule whatever the
 * answers, as independent users behave) and closed-loop (N clients, each waiting for its answer).
 */
import { Agent, request } from 'node:http';

export interface BenchUser {
  id: string;
  token: string;
}

export interface RequestRecord {
  /** ms since the step started, when the request was due to leave. */
  dueMs: number;
  /** ms since the step started, when it actually left. */
  sentMs: number;
  /** ms from the due time to the complete answer (includes any wait in the client). */
  latencyMs: number;
  status: number;
  userId: string;
  /** The base URL (instance) the request went to. */
  target: string;
  /** The created order's id (answers 201 and 200). */
  orderId?: string;
}

export interface LoadResult {
  seconds: number;
  records: RequestRecord[];
  /** Transport errors (connection refused, reset, timeout), by message. */
  errors: Record<string, number>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 256 });

/** One POST /orders; resolves with the HTTP status, the order's id and Retry-After (seconds, if sent), or rejects on a transport error. */
export function postOrder(baseUrl: string, user: BenchUser, price: number, timeoutMs = 30_000): Promise<{ status: number; orderId?: string; retryAfterSeconds?: number }> {
  const body = JSON.stringify({ price });
  const url = new URL('/orders', baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${user.token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        const retryAfter = Number(res.headers['retry-after']);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          // The order's id ties the client's view (when it was sent and answered) to the services' rows.
          let orderId: string | undefined;
          if (status === 201 || status === 200) {
            try {
              const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: unknown }).id;
              if (typeof id === 'string') orderId = id;
            } catch {
              // Not JSON: the record simply has no id.
            }
          }
          resolve({ status, ...(orderId ? { orderId } : {}), ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}) });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends `rate` orders per second for `seconds`, on schedule, cycling through the users.
 * `baseUrl` may list several instances of order-service: requests go to them in turn (round robin).
 * `perUser` consecutive requests go to one user before the next user's turn (default 1): with 2,
 * each user places two orders 1/rate apart, which with two instances land on different instances,
 * the case where per-user order could break.
 */
export async function openLoop(options: { baseUrl: string | string[]; users: BenchUser[]; rate: number; seconds: number; price: number; perUser?: number }): Promise<LoadResult> {
  const { users, rate, seconds, price } = options;
  const targets = Array.isArray(options.baseUrl) ? options.baseUrl : [options.baseUrl];
  const perUser = Math.max(1, options.perUser ?? 1);
  const total = Math.round(rate * seconds);
  const records: RequestRecord[] = [];
  const errors: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      // Everything due by now leaves now: a late timer never lowers the offered rate.
      while (sent < total && (sent * 1000) / rate <= elapsed) {
        const dueMs = (sent * 1000) / rate;
        const sentMs = performance.now() - started;
        const user = users[Math.floor(sent / perUser) % users.length] as BenchUser;
        const target = targets[sent % targets.length] as string;
        sent += 1;
        const pending = postOrder(target, user, price)
          .then(({ status, orderId }) => {
            records.push({ dueMs, sentMs, latencyMs: performance.now() - started - dueMs, status, userId: user.id, target, ...(orderId ? { orderId } : {}) });
          })
          .catch((error: Error) => {
            errors[error.message] = (errors[error.message] ?? 0) + 1;
          })
          .finally(() => inFlight.delete(pending));
        inFlight.add(pending);
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const seconds_ = (performance.now() - started) / 1000;
  await Promise.all(inFlight);
  return { seconds: seconds_, records, errors };
}

/**
 * `connections` clients, each sending its next order as soon as the previous one is answered;
 * like well-behaved clients, they wait as long as a 503's Retry-After asks before sending again
 * (the open-loop steps are the clients that do not).
 */
export async function closedLoop(options: { baseUrl: string; users: BenchUser[]; connections: number; seconds: number; price: number }): Promise<LoadResult> {
  const { baseUrl, users, connections, seconds, price } = options;
  const records: RequestRecord[] = [];
  const errors: Record<string, number> = {};
  const started = performance.now();
  const endAt = started + seconds * 1000;
  let next = 0;
  const client = async () => {
    while (performance.now() < endAt) {
      const dueMs = performance.now() - started;
      const user = users[next++ % users.length] as BenchUser;
      try {
        const { status, orderId, retryAfterSeconds } = await postOrder(baseUrl, user, price);
        records.push({ dueMs, sentMs: dueMs, latencyMs: performance.now() - started - dueMs, status, userId: user.id, target: baseUrl, ...(orderId ? { orderId } : {}) });
        if (status === 503 && retryAfterSeconds !== undefined) {
          // With jitter, as client libraries do, so refused clients do not come back in step.
          const waitMs = retryAfterSeconds * 1000 * (0.5 + Math.random());
          await new Promise((resolve) => setTimeout(resolve, Math.min(waitMs, Math.max(0, endAt - performance.now()))));
        }
      } catch (error) {
        const message = (error as Error).message;
        errors[message] = (errors[message] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  return { seconds: (performance.now() - started) / 1000, records, errors };
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export const sortedNumbers = (values: number[]): number[] => [...values].sort((a, b) => a - b);
