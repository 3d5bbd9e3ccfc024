import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

/**
 * Project boundaries, by Nx tag (each project's package.json "nx.tags"; scripts/project.json):
 * - type:service   a deployable service; uses runtime libraries only, never another service.
 * - type:lib       a runtime library; uses other runtime libraries only (never a test kit or tooling).
 * - type:test-kit  helpers for tests (@eventflow/testing, @eventflow/system-harness).
 * - type:system-test  the end-to-end tests; use test kits and runtime libraries, never a service's code.
 * - type:tooling   scripts/; may use services, but only through the entries they declare in "exports".
 * Tests of a project (test/, *.test.ts) may additionally use the test kits.
 */
const depConstraints = (testFiles) => [
  { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib', ...(testFiles ? ['type:test-kit'] : [])] },
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', ...(testFiles ? ['type:test-kit'] : [])] },
  { sourceTag: 'type:test-kit', onlyDependOnLibsWithTags: ['type:lib', 'type:test-kit'] },
  { sourceTag: 'type:system-test', onlyDependOnLibsWithTags: ['type:lib', 'type:test-kit'] },
  { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:service', 'type:lib', 'type:test-kit'] },
  // One service's scope never reaches into another's.
  { sourceTag: 'scope:user', notDependOnLibsWithTags: ['scope:billing', 'scope:order', 'scope:notification'] },
  { sourceTag: 'scope:billing', notDependOnLibsWithTags: ['scope:user', 'scope:order', 'scope:notification'] },
  { sourceTag: 'scope:order', notDependOnLibsWithTags: ['scope:user', 'scope:billing', 'scope:notification'] },
  { sourceTag: 'scope:notification', notDependOnLibsWithTags: ['scope:user', 'scope:billing', 'scope:order'] },
];
const testFiles = ['**/test/**/*.ts', '**/*.test.ts'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/src/generated/**', '.stack/**', '.nx/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: ['**/*.ts', '**/*.mjs'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: depConstraints(false) }],
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': ['error', { allow: [], depConstraints: depConstraints(true) }],
    },
  },
  {
    files: ['scripts/**/*.{ts,mjs}', 'libs/system-harness/src/**/*.ts', '**/cli/**/*.ts', '**/scripts/**/*.ts', 'libs/platform/src/db/migrate.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
