/**
 * The schema-evolution gate: `npm run schemas -- check`. Run by `npm test` (libs/events'
 * schema-gate test) and before the event types are generated (libs/events' `generate` script),
 * so an incompatible change fails at review time, not when the registry refuses it at deploy time.
 *
 *   npm run schemas -- check [--registry URL] [--base GIT_REF] [--schemas DIR]
 *
 * Compares every schemas/*.avsc with the last released versions of that event type:
 *  - the schema registry's versions of its subjects (TopicRecordNameStrategy,
 *    `<topic>-<namespace>.<Record>`) and their compatibility level, when the registry answers
 *    (--registry, else SCHEMA_REGISTRY_URL, else the local stack's);
 *  - otherwise (or with --base / SCHEMAS_BASE, or for an event the registry does not know) the
 *    version in git at the newest release tag `v*` reachable from HEAD, or at HEAD when there is no
 *    tag, under BACKWARD (the level provisioning registers).
 * and with the reader schema of every consumer of the event (the receive operations of
 * docs/api/asyncapi.yaml), which is the released version until the consumer is redeployed.
 * Compatibility is decided by avsc's resolver (libs/events/src/evolution.ts). Exits 1 naming the
 * event, the rule and the field when a change is not allowed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Schema } from 'avsc';
import { parse as parseYaml } from 'yaml';
import {
  evolutionChecks,
  isCompatibilityLevel,
  type Check,
  type CompatibilityLevel,
  type ConsumerReader,
  type ReleasedHistory,
  type SchemaVersion,
} from '@eventflow/events/evolution';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

interface RecordSchema {
  type: 'record';
  name: string;
  namespace?: string;
}

const [command, ...rest] = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? rest[i + 1] : undefined;
};

if (command !== 'check') {
  console.error('usage: npm run schemas -- check [--registry URL] [--base GIT_REF] [--schemas DIR]');
  process.exit(2);
}

const schemasDir = resolve(option('schemas') ?? join(repoRoot, 'schemas'));
const gitBaseOption = option('base') ?? process.env['SCHEMAS_BASE'];
const registryUrl = (option('registry') ?? process.env['SCHEMA_REGISTRY_URL'] ?? 'http://127.0.0.1:8081/apis/ccompat/v7').replace(/\/$/, '');

// ── the new schemas ─────────────────────────────────────────────────────────────────────────
const current = new Map<string, RecordSchema>();
for (const file of readdirSync(schemasDir).filter((f) => f.endsWith('.avsc')).sort()) {
  current.set(basename(file, '.avsc'), JSON.parse(readFileSync(join(schemasDir, file), 'utf8')) as RecordSchema);
}
const fullName = (schema: RecordSchema) => (schema.namespace ? `${schema.namespace}.${schema.name}` : schema.name);

// ── the consumers, as documented ────────────────────────────────────────────────────────────
interface AsyncApiOperation {
  action?: string;
  tags?: Array<{ name?: string }>;
  messages?: Array<{ $ref?: string }>;
  bindings?: { kafka?: { groupId?: { enum?: string[] } } };
}
function consumersByEvent(): Map<string, string[]> {
  const document = parseYaml(readFileSync(join(repoRoot, 'docs', 'api', 'asyncapi.yaml'), 'utf8')) as { operations?: Record<string, AsyncApiOperation> };
  const readers = new Map<string, string[]>();
  for (const [id, operation] of Object.entries(document.operations ?? {})) {
    if (operation.action !== 'receive') continue;
    const consumer = operation.bindings?.kafka?.groupId?.enum?.[0] ?? operation.tags?.[0]?.name ?? id;
    for (const message of operation.messages ?? []) {
      const eventType = message.$ref?.split('/').pop();
      if (!eventType) continue;
      readers.set(eventType, [...new Set([...(readers.get(eventType) ?? []), consumer])]);
    }
  }
  return readers;
}

// ── released versions: the registry ─────────────────────────────────────────────────────────
async function registry<T>(path: string): Promise<T | undefined> {
  const response = await fetch(`${registryUrl}${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5_000) });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`schema registry GET ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

async function registrySubjects(): Promise<string[] | undefined> {
  try {
    return await registry<string[]>('/subjects');
  } catch (error) {
    if (option('registry')) throw error; // asked for explicitly: unreachable is an error
    return undefined;
  }
}

async function levelOf(subject: string): Promise<CompatibilityLevel> {
  const own = await registry<{ compatibilityLevel?: string }>(`/config/${encodeURIComponent(subject)}`);
  const level = own?.compatibilityLevel ?? (await registry<{ compatibilityLevel?: string }>('/config'))?.compatibilityLevel;
  return isCompatibilityLevel(level) ? level : 'BACKWARD';
}

async function registryHistories(subjects: string[], schema: RecordSchema): Promise<ReleasedHistory[]> {
  const name = fullName(schema);
  const histories: ReleasedHistory[] = [];
  for (const subject of subjects.filter((s) => s === name || s.endsWith(`-${name}`))) {
    const numbers = (await registry<number[]>(`/subjects/${encodeURIComponent(subject)}/versions`)) ?? [];
    const versions: SchemaVersion[] = [];
    for (const number of [...numbers].sort((a, b) => a - b)) {
      const version = await registry<{ schema: string }>(`/subjects/${encodeURIComponent(subject)}/versions/${number}`);
      if (version) versions.push({ label: String(number), schema: JSON.parse(version.schema) as Schema });
    }
    if (versions.length > 0) histories.push({ source: `registry subject ${subject}`, level: await levelOf(subject), versions });
  }
  return histories;
}

// ── released versions: git ──────────────────────────────────────────────────────────────────
function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', ['-C', repoRoot, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}
const gitBase = gitBaseOption ?? git(['describe', '--tags', '--abbrev=0', '--match', 'v*', 'HEAD'])?.trim() ?? 'HEAD';

function gitHistory(eventType: string): ReleasedHistory | null {
  const text = git(['show', `${gitBase}:schemas/${eventType}.avsc`]);
  if (text === undefined) return null; // not released yet (or not a git checkout)
  // BACKWARD is what provisioning registers for every subject (EventCodec.register).
  return { source: `git ${gitBase}`, level: 'BACKWARD', versions: [{ label: gitBase, schema: JSON.parse(text) as Schema }] };
}

// ── the gate ────────────────────────────────────────────────────────────────────────────────
const subjects = gitBaseOption ? undefined : await registrySubjects();
const readers = consumersByEvent();
const checks: Check[] = [];
const sources = new Set<string>();
for (const [eventType, schema] of current) {
  const fromRegistry = subjects ? await registryHistories(subjects, schema) : [];
  const fromGit = fromRegistry.length === 0 ? gitHistory(eventType) : null;
  const histories = fromGit ? [fromGit] : fromRegistry;
  if (histories.length === 0) console.log(`new   ${eventType}: no released version, nothing to compare with`);
  for (const history of histories) {
    sources.add(history.source.startsWith('git') ? history.source : `registry ${registryUrl}`);
    const latest = history.versions.at(-1);
    const consumers: ConsumerReader[] = latest ? (readers.get(eventType) ?? []).map((consumer) => ({ consumer, reader: { label: `version ${latest.label} of ${history.source.replace(/^registry /, '')}`, schema: latest.schema } })) : [];
    checks.push(...evolutionChecks(eventType, schema as unknown as Schema, history, consumers));
  }
}
for (const [eventType, consumers] of readers) {
  if (!current.has(eventType)) checks.push({ eventType, rule: 'FORWARD', description: `${eventType} is consumed`, violation: { eventType, rule: 'FORWARD', field: eventType, message: `FORWARD violated at field ${eventType}: ${consumers.join(', ')} consume it (docs/api/asyncapi.yaml) but schemas/${eventType}.avsc is gone` } });
}

for (const check of checks) console.log(`${check.violation ? 'FAIL' : 'ok  '}  ${check.eventType}: ${check.description}${check.violation ? `\n        ${check.violation.message}` : ''}`);
const violations = checks.filter((c) => c.violation);
console.log(
  `schemas check: ${checks.length - violations.length} passed, ${violations.length} failed; ${current.size} schema(s) in ${schemasDir === join(repoRoot, 'schemas') ? 'schemas/' : schemasDir} against ${[...sources].join(' and ') || 'nothing released'}`,
);
if (violations.length > 0) {
  console.log('A breaking change needs a new event type (or topic) instead; see docs/schema-evolution.md.');
  process.exit(1);
}
if (!existsSync(join(repoRoot, '.git'))) console.log('(not a git checkout: git base unavailable)');
