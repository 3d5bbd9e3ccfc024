/**
 * The one Vitest configuration of the workspace. Each project's `test` script runs
 * `vitest run --config ../../vitest.config.ts` in its own directory (that is what `nx run <p>:test`
 * and npm test do, one JSON report per project); `npx vitest run` at the root runs every project.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import type { TestUserConfig } from 'vitest/config';

// Tests run the system (and name what they publish) under the test namespace, never among the
// topics and subjects of the system `npm start` runs on the same stack; libs/system-harness
// testKafkaNamespace. Set before any test module (or globalSetup) loads @eventflow/events.
process.env['KAFKA_NAMESPACE'] ??= 'test.';

const workspaceRoot = dirname(fileURLToPath(import.meta.url));
/** Every apps/* and libs/* project with a `test` script. */
const projectDirs = ['apps', 'libs'].flatMap((group) =>
  readdirSync(join(workspaceRoot, group))
    .map((name) => join(workspaceRoot, group, name))
    .filter((dir) => {
      const manifest = join(dir, 'package.json');
      return existsSync(manifest) && Boolean(JSON.parse(readFileSync(manifest, 'utf8')).scripts?.test);
    }),
);

/** Settings of the project in `dir`. */
function settingsOf(dir: string): TestUserConfig {
  if (basename(dir) === 'system-tests') {
    return {
      include: ['test/**/*.test.ts'],
      globalSetup: ['test/global-setup.ts'],
      testTimeout: 120_000,
      hookTimeout: 180_000,
      // One system, shared by every file: run them one after another.
      fileParallelism: false,
    };
  }
  return {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one Kafka, registry and PostgreSQL: run files one at a time.
    fileParallelism: false,
  };
}

const cwd = process.cwd();
export default defineConfig(
  cwd === workspaceRoot
    ? {
        test: {
          // Every project in turn: they share one Kafka, registry and PostgreSQL.
          fileParallelism: false,
          projects: projectDirs.map((dir) => ({ test: { name: relative(workspaceRoot, dir), root: dir, ...settingsOf(dir) } })),
        },
      }
    : { test: settingsOf(cwd) },
);
