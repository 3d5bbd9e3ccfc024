import type { HttpFloorResult, PgbenchResult } from './anchors.js';
import type { PerUserOrderResult } from './ordering.js';

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  count: number;
}

export interface StepResult {
  kind: 'open' | 'closed';
  target: 'direct' | 'gateway';
  /** Open-loop: requests per second asked for. */
  offeredRate?: number;
  /** Closed-loop: number of clients. */
  connections?: number;
  /** e.g. "half of peak", "after 200000 orders". */
  note?: string;
  /** Instances of each service running (absent: 1); open-loop requests go round robin over order-service's. */
  instances?: number;
  /** Orders per user in a row (absent: 1); see openLoop's perUser. */
  perUser?: number;
  /** Per-user settlement order against placement order, from the services' rows (ordering.ts). */
  perUserOrder?: PerUserOrderResult;
  seconds: number;
  sent: number;
  offeredPerSecond: number;
  acceptedPerSecond: number;
  rejected503: number;
  otherStatuses: Record<string, number>;
  transportErrors: Record<string, number>;
  settled: number;
  settledPerSecond: number;
  http: Percentiles;
  toFinal: Percentiles;
  toEmail: Percentiles;
  /** POST -> e-mail by hop (BenchDatabases.hops), for the orders of the step that reached their e-mail. */
  hops?: Record<string, Percentiles>;
  /** Orders of the step without e-mail after the drain timeout. */
  neverSettled: number;
  backlogAtEnd: {
    unsettledOrders: number;
    outbox: Record<string, { count: number; oldestAgeMs: number }>;
    consumerLag: Record<string, number>;
  };
  drainSeconds: number | null;
  cpuMs: Record<string, number>;
  peakMemoryMb: Record<string, number>;
  serviceCpuMsPerSettledOrder: number | null;
  commitsPerOrder: number;
  walBytesPerOrder: number;
}

export interface BenchResults {
  startedAt: string;
  commit: string;
  dirty: boolean;
  smoke: boolean;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  settings: Record<string, unknown>;
  anchors: { pgbench: PgbenchResult; httpFloor: HttpFloorResult[] };
  steps: StepResult[];
  headline: {
    peakSettledPerSecond: number;
    peakStep: string;
    R: number;
    serviceCpuMsPerSettledOrder: number | null;
    maxServiceRssMb: number;
    settledPerHttpFloor: number;
  };
}
