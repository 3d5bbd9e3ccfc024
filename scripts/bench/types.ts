import type { HttpFloorResult, PgbenchResult } from './anchors.js';

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
