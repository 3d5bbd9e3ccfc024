import type { TestProject } from 'vitest/node';
import { startSystem, type RunningSystem } from '@eventflow/system-harness';

let system: RunningSystem | undefined;

/** Starts the infrastructure and the four services once for all system tests. */
export async function setup(project: TestProject): Promise<void> {
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
