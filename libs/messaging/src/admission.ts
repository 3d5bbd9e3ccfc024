import type { Admin } from 'kafkajs';
import { namespaced } from '@eventflow/events';
import type { Logger } from '@eventflow/platform';
import { errorMessage } from '@eventflow/platform';

/** A consumer group and the topics whose lag counts as backlog of the flow being admitted. */
export interface WatchedGroup {
  groupId: string;
  topics: string[];
}

export interface BacklogReading {
  /** Age of the oldest unpublished outbox row of this service, ms. */
  outboxAgeMs: number;
  /** Per watched group: messages not yet committed and the rate at which it commits (per second). */
  groups: Array<{ groupId: string; lag: number; ratePerSecond: number }>;
}

export interface AdmissionVerdict {
  admit: boolean;
  /** Why not, for the problem detail. */
  reason?: string;
  /** When a client should try again. */
  retryAfterSeconds?: number;
}

/**
 * The admission rule, pure: refuse new work while any stage of the flow is more than
 * maxBacklogMs behind. A consumer's delay is its lag divided by the rate it is committing at (a
 * stalled consumer with a lag is infinitely behind); the outbox's is the age of its oldest row.
 * Small lags are ignored: offsets are committed about once a second, so a healthy consumer always
 * shows one second's messages.
 */
export function admissionVerdict(reading: BacklogReading, maxBacklogMs: number, minLag = 20): AdmissionVerdict {
  if (maxBacklogMs <= 0) return { admit: true };
  const delays: Array<{ stage: string; ms: number }> = [{ stage: 'outbox', ms: reading.outboxAgeMs }];
  for (const group of reading.groups) {
    if (group.lag <= minLag) continue;
    delays.push({ stage: `consumer ${group.groupId}`, ms: group.ratePerSecond > 0 ? (1000 * group.lag) / group.ratePerSecond : Number.POSITIVE_INFINITY });
  }
  const worst = delays.reduce((a, b) => (b.ms > a.ms ? b : a));
  if (worst.ms <= maxBacklogMs) return { admit: true };
  // Come back when the backlog should be under the limit again, not when it is gone: clients that
  // all wait out the whole backlog return to an idle system together.
  const seconds = Number.isFinite(worst.ms) ? Math.ceil((worst.ms - maxBacklogMs) / 1000) : 5;
  return {
    admit: false,
    reason: `${worst.stage} is ${Number.isFinite(worst.ms) ? `${(worst.ms / 1000).toFixed(1)} s` : 'indefinitely'} behind (limit ${maxBacklogMs / 1000} s)`,
    retryAfterSeconds: Math.min(30, Math.max(1, seconds)),
  };
}

export interface AdmissionControlOptions {
  admin: Admin;
  /** The outbox backlog of this service (OutboxRelay.backlog). */
  outboxBacklog: () => Promise<{ oldestAgeMs: number }>;
  groups: WatchedGroup[];
  maxBacklogMs: number;
  refreshMs: number;
  logger: Logger;
}

/**
 * Admission control: past a configured backlog, new work is refused at once (503 with
 * Retry-After) instead of joining an unbounded queue, so the work already accepted settles at
 * full speed and its latency stays bounded. The backlog is measured in the background, so the
 * check on the request path costs nothing.
 */
export class AdmissionControl {
  private verdict: AdmissionVerdict = { admit: true };
  private timer: NodeJS.Timeout | undefined;
  private readonly committed = new Map<string, { at: number; offset: number; rate: number }>();
  private refreshing = false;
  private connected = false;

  constructor(private readonly options: AdmissionControlOptions) {}

  start(): void {
    if (this.options.maxBacklogMs <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.connected) await this.options.admin.disconnect();
    this.connected = false;
  }

  /** The latest verdict; synchronous, for the request path. */
  check(): AdmissionVerdict {
    return this.verdict;
  }

  async refresh(): Promise<void> {
    if (this.refreshing) return;
    this.refreshing = true;
    try {
      const reading = await this.read();
      const verdict = admissionVerdict(reading, this.options.maxBacklogMs);
      if (verdict.admit !== this.verdict.admit) {
        this.options.logger.warn({ reading, verdict }, verdict.admit ? 'admitting new orders again' : `refusing new orders: ${verdict.reason}`);
      }
      this.verdict = verdict;
    } catch (error) {
      // Not knowing the backlog is no reason to refuse work; readiness reports broken dependencies.
      this.options.logger.warn({ err: error }, `admission control could not read the backlog: ${errorMessage(error)}`);
      this.verdict = { admit: true };
    } finally {
      this.refreshing = false;
    }
  }

  private async read(): Promise<BacklogReading> {
    const { admin } = this.options;
    if (!this.connected) {
      await admin.connect();
      this.connected = true;
    }
    const { oldestAgeMs } = await this.options.outboxBacklog();
    const now = Date.now();
    const ends = new Map<string, Map<number, number>>();
    const groups: BacklogReading['groups'] = [];
    for (const declared of this.options.groups) {
      // Declared with a release's names; this process's namespace applies at the broker.
      const groupId = namespaced(declared.groupId);
      const topics = declared.topics.map((topic) => namespaced(topic));
      let lag = 0;
      let position = 0;
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
        if (!ends.has(topic)) ends.set(topic, new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)])));
        for (const { partition, offset } of partitions) {
          const at = Math.max(0, Number(offset));
          position += at;
          lag += Math.max(0, (ends.get(topic)?.get(partition) ?? 0) - at);
        }
      }
      // Commit rate, smoothed over a few refreshes so one slow second does not flip the verdict.
      const previous = this.committed.get(groupId);
      if (!previous || now <= previous.at) {
        // The first reading has no rate yet: judged from the next one on.
        this.committed.set(groupId, { at: now, offset: position, rate: Number.NaN });
        continue;
      }
      const instant = ((position - previous.offset) * 1000) / (now - previous.at);
      const rate = Number.isNaN(previous.rate) ? instant : 0.5 * previous.rate + 0.5 * instant;
      this.committed.set(groupId, { at: now, offset: position, rate });
      groups.push({ groupId, lag, ratePerSecond: rate });
    }
    return { outboxAgeMs: oldestAgeMs, groups };
  }
}
