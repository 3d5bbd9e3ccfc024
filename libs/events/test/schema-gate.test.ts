import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stackSettings } from '@eventflow/testing';
import { EventCodec } from '../src/index.js';

const repoRoot = new URL('../../../', import.meta.url).pathname;
const schemasDir = join(repoRoot, 'schemas');
const { schemaRegistryUrl } = stackSettings();

/** Runs `npm run schemas -- check` exactly as npm does, against the real registry unless a git base is given. */
function gate(...args: string[]) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'schemas.ts'), 'check', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, SCHEMA_REGISTRY_URL: schemaRegistryUrl, SCHEMAS_BASE: '' },
    timeout: 60_000,
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

const scratch: string[] = [];
afterEach(() => {
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of schemas/ with one field appended to one record. */
function schemasWith(eventType: string, field: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'schemas-gate-'));
  scratch.push(dir);
  for (const file of readdirSync(schemasDir)) copyFileSync(join(schemasDir, file), join(dir, file));
  const path = join(dir, `${eventType}.avsc`);
  const schema = JSON.parse(readFileSync(path, 'utf8')) as { fields: unknown[] };
  schema.fields.push(field);
  writeFileSync(path, JSON.stringify(schema, null, 2));
  return dir;
}

describe('npm run schemas -- check (the schema-evolution gate)', () => {
  // What provisioning does on every start: on a fresh registry, the subjects exist from here on.
  beforeAll(async () => {
    await new EventCodec(schemaRegistryUrl).registerAll();
  });

  it('passes for the schemas of this checkout, against the registry', () => {
    const { status, output } = gate('--registry', schemaRegistryUrl);
    expect(output).toMatch(/against registry /);
    expect(status, output).toBe(0);
  });

  it('passes a compatible change: an optional field with a default', () => {
    const { status, output } = gate('--registry', schemaRegistryUrl, '--schemas', schemasWith('OrderPlaced', { name: 'channel', type: 'string', default: 'web', doc: 'Where the order came from.' }));
    expect(status, output).toBe(0);
  });

  it('refuses a breaking change, naming the event, the rule and the field', () => {
    const { status, output } = gate('--registry', schemaRegistryUrl, '--schemas', schemasWith('OrderPlaced', { name: 'discount', type: 'long', doc: 'A required field added.' }));
    expect(status, output).toBe(1);
    expect(output).toMatch(/FAIL {2}OrderPlaced: .*\n {8}BACKWARD violated at field OrderPlaced\.discount: the new OrderPlaced schema cannot read events written with registry subject order-events-io\.eventflow\.orders\.OrderPlaced version \d+/);
  });

  it('falls back to a git base when asked, and refuses the same change there', () => {
    const { status, output } = gate('--base', 'HEAD', '--schemas', schemasWith('UserCreated', { name: 'plan', type: 'string', doc: 'A required field added.' }));
    expect(status, output).toBe(1);
    expect(output).toContain('BACKWARD violated at field UserCreated.plan');
    expect(output).toContain('against git HEAD');
  });
});
