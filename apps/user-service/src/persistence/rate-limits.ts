import type { RateLimitCounter } from '@eventflow/http';
import type { Db } from './prisma.js';

/** Every this many increments, one of them also deletes windows that ended (bounded batch). */
const sweepEvery = 200;

/**
 * The login and registration limits' counters in user-service's database (table
 * rate_limit_windows), so every replica counts the same windows: one upsert per counted request,
 * a primary-key read per check. Fixed windows: the first request of a key starts one.
 */
export function postgresRateLimitCounter(db: Db): RateLimitCounter {
  let increments = 0;
  const sweep = () =>
    db.$executeRaw`
      DELETE FROM rate_limit_windows WHERE key IN (
        SELECT key FROM rate_limit_windows WHERE reset_at < now() - interval '1 minute' LIMIT 1000)`.catch(() => undefined);

  return {
    async increment(key, windowMs) {
      increments += 1;
      if (increments % sweepEvery === 0) void sweep();
      const [row] = await db.$queryRaw<Array<{ count: number; reset_in_ms: number }>>`
        INSERT INTO rate_limit_windows AS w (key, count, reset_at)
        VALUES (${key}, 1, now() + ${windowMs}::int * interval '1 millisecond')
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN w.reset_at <= now() THEN 1 ELSE w.count + 1 END,
          reset_at = CASE WHEN w.reset_at <= now() THEN EXCLUDED.reset_at ELSE w.reset_at END
        RETURNING w.count, greatest(0, ceil(extract(epoch FROM w.reset_at - now()) * 1000))::int AS reset_in_ms`;
      return { count: row?.count ?? 1, resetInMs: row?.reset_in_ms ?? windowMs };
    },
    async read(key) {
      const [row] = await db.$queryRaw<Array<{ count: number; reset_in_ms: number }>>`
        SELECT count, greatest(0, ceil(extract(epoch FROM reset_at - now()) * 1000))::int AS reset_in_ms
        FROM rate_limit_windows WHERE key = ${key} AND reset_at > now()`;
      return row ? { count: row.count, resetInMs: row.reset_in_ms } : { count: 0, resetInMs: 0 };
    },
  };
}
