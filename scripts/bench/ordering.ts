/**
 * The per-user ordering check (docs/architecture.md, "Per-user ordering"): a user's events stay in
 * one partition and are applied in order, so when a user's order B was placed after order A had
 * been accepted (A's 201 arrived before B's POST left: a happens-before the client saw), A must be
 * settled before B in every service downstream, whichever instance took each request.
 *
 * Evidence is taken from the services' own rows: billing's ledger gives an exact order (a user's
 * charges lower the balance one after another, so the charge with the higher `balance_after` came
 * first; no deposits happen during a step); order-service's `completed_at` and notification's
 * `sent_at` are millisecond timestamps, where equal values count as ties, not inversions.
 * Consecutive orders of a user whose requests overlapped in time have no defined order and are
 * only counted.
 */
import type { RequestRecord } from './load.js';

/** What the services stored about one order (null: not there). */
export interface SettlementFacts {
  /** billing: balance left after the order's charge. */
  balanceAfter: bigint | null;
  /** order-service: when the order reached its final state (ms since epoch). */
  completedAt: number | null;
  /** notification: when its e-mail was stored (ms since epoch). */
  emailAt: number | null;
}

export interface PerUserOrderResult {
  users: number;
  /** Consecutive accepted orders of one user, in the order the client sent them. */
  pairs: number;
  /** Pairs where the first was answered before the second was sent: their order is defined. */
  orderedPairs: number;
  /** Pairs whose requests overlapped: no order is defined, not checked. */
  concurrentPairs: number;
  /** Ordered pairs whose two orders were placed on different instances of order-service. */
  crossInstancePairs: number;
  /** Ordered pairs settled in the opposite order, per service; `ties` have equal ms timestamps. */
  inversions: { billing: number; order: number; notification: number };
  ties: { order: number; notification: number };
  /** Ordered pairs with a row missing in some service (not settled within the drain timeout). */
  incomplete: number;
  /** Up to five inversions, described. */
  examples: string[];
}

export const perUserOrderHolds = (result: PerUserOrderResult): boolean =>
  result.inversions.billing + result.inversions.order + result.inversions.notification === 0;

/** `records`: the step's answered requests; `facts`: what the services stored, by order id. */
export function checkPerUserOrder(records: RequestRecord[], facts: Map<string, SettlementFacts>): PerUserOrderResult {
  const byUser = new Map<string, RequestRecord[]>();
  for (const record of records) {
    if (!record.orderId || (record.status !== 201 && record.status !== 200)) continue;
    byUser.set(record.userId, [...(byUser.get(record.userId) ?? []), record]);
  }
  const result: PerUserOrderResult = {
    users: byUser.size,
    pairs: 0,
    orderedPairs: 0,
    concurrentPairs: 0,
    crossInstancePairs: 0,
    inversions: { billing: 0, order: 0, notification: 0 },
    ties: { order: 0, notification: 0 },
    incomplete: 0,
    examples: [],
  };
  const example = (text: string) => {
    if (result.examples.length < 5) result.examples.push(text);
  };
  for (const [userId, own] of byUser) {
    own.sort((a, b) => a.sentMs - b.sentMs);
    for (let i = 1; i < own.length; i += 1) {
      const first = own[i - 1] as RequestRecord;
      const second = own[i] as RequestRecord;
      result.pairs += 1;
      const firstAnsweredMs = first.dueMs + first.latencyMs;
      if (firstAnsweredMs >= second.sentMs) {
        result.concurrentPairs += 1;
        continue;
      }
      result.orderedPairs += 1;
      if (first.target !== second.target) result.crossInstancePairs += 1;
      const a = facts.get(first.orderId as string);
      const b = facts.get(second.orderId as string);
      if (!a || !b || a.balanceAfter === null || b.balanceAfter === null || a.completedAt === null || b.completedAt === null || a.emailAt === null || b.emailAt === null) {
        result.incomplete += 1;
        continue;
      }
      const what = `user ${userId}: order ${second.orderId} (sent ${second.sentMs.toFixed(0)} ms) after ${first.orderId} (answered ${firstAnsweredMs.toFixed(0)} ms)`;
      // Charges lower the balance: the later charge leaves the lower balance.
      if (b.balanceAfter >= a.balanceAfter) {
        result.inversions.billing += 1;
        example(`${what} was charged first (balance after ${b.balanceAfter} ≥ ${a.balanceAfter})`);
      }
      if (b.completedAt < a.completedAt) {
        result.inversions.order += 1;
        example(`${what} reached its final state ${a.completedAt - b.completedAt} ms earlier`);
      } else if (b.completedAt === a.completedAt) result.ties.order += 1;
      if (b.emailAt < a.emailAt) {
        result.inversions.notification += 1;
        example(`${what} got its e-mail ${a.emailAt - b.emailAt} ms earlier`);
      } else if (b.emailAt === a.emailAt) result.ties.notification += 1;
    }
  }
  return result;
}
