import type { TestProject } from 'vitest/node';
import { startSystem, type RunningSystem } from '@eventflow/system-harness';

let system: RunningSystem | undefined;

/** Starts the infrastructure and the four services once for all system tests. */
export async function setup(project: TestProject): Promise<void> {
  // The per-event lines (an order charged, settled, e-mailed) are at debug since 6d6b8a9; the
  // tracing test reads them to see every service continue the caller's trace.
  process.env['LOG_LEVEL'] ??= 'debug';
  system = await startSystem({ generate: false });
  project.provide('baseUrl', system.baseUrl);
}

export async function teardown(): Promise<void> {
  await system?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
