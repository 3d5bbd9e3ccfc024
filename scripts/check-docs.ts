/**
 * Documentation checks, run by `npm test` (and alone: `npx tsx scripts/check-docs.ts`). Needs no
 * browser and no running system. Prints one line per check, the problems under it, and a summary;
 * exits non-zero when any check fails. Warnings are printed but do not fail.
 *
 *  1. diagrams: every diagrams/*.mmd has diagrams/rendered/<name>.svg and .png, and
 *     <name>.sha256 equals the SHA-256 of the current source (`npm run diagrams` renders them).
 *  2. AsyncAPI: docs/api/asyncapi.yaml and docs/api/variants/*.asyncapi.yaml parse and validate
 *     with @asyncapi/parser (Avro payloads through @asyncapi/avro-schema-parser, `$ref`s to
 *     schemas/*.avsc resolved from the file); errors fail, warnings are reported. The main
 *     document must also match the code: the topics, event-to-topic mapping, dead-letter topics
 *     and partitions declared in libs/events, and a message for every schemas/*.avsc.
 *  3. OpenAPI: every docs/api/**\/*.openapi.{yaml,json} validates.
 *  4. Avro: every schemas/*.avsc has a `doc` on each record, enum and field, nested ones included.
 *  5. Links: every relative link (and #anchor into a Markdown file) in README.md and docs/**\/*.md
 *     points at something that exists. A missing docs/api/<service>.openapi.json is a warning only,
 *     since those are generated.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AvroSchemaParser } from '@asyncapi/avro-schema-parser';
import { DiagnosticSeverity, Parser, fromFile, type AsyncAPIDocumentInterface } from '@asyncapi/parser';
import { validate as validateOpenApi } from '@readme/openapi-parser';
import type * as Events from '@eventflow/events';

/** Loaded lazily: it needs the generated event types, which a fresh clone has only after npm run generate. */
type EventsModule = typeof Events;

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const rel = (path: string) => relative(repoRoot, path) || '.';

interface CheckResult {
  name: string;
  summary: string;
  errors: string[];
  warnings: string[];
}

/** Files under dir (recursively) whose name passes the filter; missing dir → none. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) out.push(...filesUnder(path, keep));
    } else if (keep(entry.name)) {
      out.push(path);
    }
  }
  return out.sort();
}

// ── 1. diagrams ──────────────────────────────────────────────────────────────────────────────

/** Same digest as scripts/render-diagrams.ts: SHA-256 hex of the source, CRLF read as LF. */
const sourceDigest = (source: Buffer): string => createHash('sha256').update(source.toString('utf8').replace(/\r\n/g, '\n')).digest('hex');

function checkDiagrams(): CheckResult {
  const result: CheckResult = { name: 'diagrams rendered from their current source', summary: '', errors: [], warnings: [] };
  const dir = join(repoRoot, 'diagrams');
  const rendered = join(dir, 'rendered');
  const sources = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mmd')).sort() : [];
  if (sources.length === 0) result.warnings.push('no diagrams/*.mmd found');
  const pngSignature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  for (const file of sources) {
    const name = basename(file, '.mmd');
    const svg = join(rendered, `${name}.svg`);
    const png = join(rendered, `${name}.png`);
    const digestFile = join(rendered, `${name}.sha256`);
    const missing = [svg, png, digestFile].filter((p) => !existsSync(p)).map((p) => basename(p));
    if (missing.length > 0) {
      result.errors.push(`${file}: not rendered (missing ${missing.join(', ')}); run npm run diagrams`);
      continue;
    }
    const expected = sourceDigest(readFileSync(join(dir, file)));
    const recorded = readFileSync(digestFile, 'utf8').trim();
    if (recorded !== expected) result.errors.push(`${file}: changed since it was rendered (sha256 ${expected.slice(0, 12)}…, rendered from ${recorded.slice(0, 12)}…); run npm run diagrams`);
    if (!readFileSync(svg, 'utf8').slice(0, 4096).includes('<svg')) result.errors.push(`${name}.svg is not an SVG`);
    if (!readFileSync(png).subarray(0, 8).equals(pngSignature)) result.errors.push(`${name}.png is not a PNG`);
  }
  if (existsSync(rendered)) {
    const names = new Set(sources.map((f) => basename(f, '.mmd')));
    for (const f of readdirSync(rendered)) {
      if (!names.has(f.replace(/\.(svg|png|sha256)$/, ''))) result.warnings.push(`diagrams/rendered/${f} has no source .mmd (npm run diagrams removes it)`);
    }
  }
  // A picture nobody links to is probably a forgotten one.
  const markdown = [join(repoRoot, 'README.md'), ...filesUnder(join(repoRoot, 'docs'), (n) => n.endsWith('.md'))].filter((p) => existsSync(p));
  const allText = markdown.map((p) => readFileSync(p, 'utf8')).join('\n');
  for (const file of sources) {
    const name = basename(file, '.mmd');
    if (!allText.includes(`rendered/${name}.svg`) && !allText.includes(`rendered/${name}.png`)) {
      result.warnings.push(`diagrams/${file} is not shown in any Markdown document`);
    }
  }
  result.summary = `${sources.length} diagram(s)`;
  return result;
}

// ── 2. AsyncAPI ──────────────────────────────────────────────────────────────────────────────

function asyncApiParser(): Parser {
  const parser = new Parser();
  parser.registerSchemaParser(AvroSchemaParser());
  return parser;
}

async function checkAsyncApi(): Promise<CheckResult> {
  const result: CheckResult = { name: 'AsyncAPI documents valid', summary: '', errors: [], warnings: [] };
  const main = join(repoRoot, 'docs', 'api', 'asyncapi.yaml');
  const variants = filesUnder(join(repoRoot, 'docs', 'api', 'variants'), (n) => /\.asyncapi\.(ya?ml|json)$/.test(n));
  const documents = [main, ...variants];
  let infos = 0;
  for (const path of documents) {
    if (!existsSync(path)) {
      result.errors.push(`${rel(path)}: missing`);
      continue;
    }
    // fromFile sets the document's source, so relative $refs (../../schemas/X.avsc) resolve
    // against the file's directory with the parser's own file resolver; nothing is inlined.
    const { document, diagnostics } = await fromFile(asyncApiParser(), path).parse();
    for (const d of diagnostics) {
      const where = `${rel(path)}${d.path.length > 0 ? ` at ${d.path.join('.')}` : ''}`;
      if (d.severity === DiagnosticSeverity.Error) result.errors.push(`${where}: ${d.message} (${String(d.code)})`);
      else if (d.severity === DiagnosticSeverity.Warning) result.warnings.push(`${where}: ${d.message} (${String(d.code)})`);
      else infos += 1;
    }
    if (!document) {
      if (!diagnostics.some((d) => d.severity === DiagnosticSeverity.Error)) result.errors.push(`${rel(path)}: the parser returned no document`);
      continue;
    }
    for (const message of document.allMessages()) {
      if ((message.schemaFormat() ?? '').startsWith('application/vnd.apache.avro') && message.payload()?.type() !== 'object') {
        result.errors.push(`${rel(path)}: message ${message.id()} has no resolved Avro record payload`);
      }
    }
    if (path === main) await crossCheckWithCode(document, result);
  }
  result.summary = `${documents.map((p) => rel(p)).join(', ')}${infos > 0 ? ` (${infos} informational diagnostic(s) not shown)` : ''}`;
  return result;
}

/** The main AsyncAPI document against the topic catalogue in libs/events and the schemas folder. */
async function crossCheckWithCode(document: AsyncAPIDocumentInterface, result: CheckResult): Promise<void> {
  const channelByAddress = new Map(document.channels().all().map((c) => [c.address() ?? '', c]));

  // Every schema file is described by a message of the same name.
  const messageIds = new Set(document.allMessages().all().map((m) => m.name() ?? m.id()));
  for (const avsc of filesUnder(join(repoRoot, 'schemas'), (n) => n.endsWith('.avsc'))) {
    const name = basename(avsc, '.avsc');
    if (!messageIds.has(name)) result.errors.push(`docs/api/asyncapi.yaml: no message for schemas/${name}.avsc`);
  }

  let events: EventsModule;
  try {
    events = await import('@eventflow/events');
  } catch (error) {
    result.warnings.push(
      `skipped comparing docs/api/asyncapi.yaml with libs/events (cannot load it: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; run npm run generate first)`,
    );
    return;
  }
  // The provisioning defaults (libs/events/src/cli/provision.ts) are what the document shows.
  const declared = events.declaredTopics({ partitions: 3, replicationFactor: 1, minInsyncReplicas: 1, namespace: '' });
  const declaredNames = new Set(declared.map((t) => t.topic));
  for (const topic of declared) {
    const channel = channelByAddress.get(topic.topic);
    if (!channel) {
      result.errors.push(`docs/api/asyncapi.yaml: no channel with address ${topic.topic} (declared in libs/events/src/topology.ts)`);
      continue;
    }
    const kafka = channel.bindings().get('kafka')?.value() as { partitions?: number; replicas?: number; topicConfiguration?: Record<string, unknown> } | undefined;
    if (kafka?.partitions !== topic.numPartitions) result.errors.push(`channel ${topic.topic}: partitions ${kafka?.partitions} in the document, ${topic.numPartitions} by default in the code`);
    if (kafka?.replicas !== topic.replicationFactor) result.errors.push(`channel ${topic.topic}: replicas ${kafka?.replicas} in the document, ${topic.replicationFactor} by default in the code`);
    const retention = topic.configEntries?.find((e) => e.name === 'retention.ms')?.value;
    if (retention !== undefined && String(kafka?.topicConfiguration?.['retention.ms']) !== retention) {
      result.errors.push(`channel ${topic.topic}: retention.ms ${String(kafka?.topicConfiguration?.['retention.ms'])} in the document, ${retention} in the code`);
    }
  }
  for (const address of channelByAddress.keys()) {
    if (!declaredNames.has(address)) result.errors.push(`docs/api/asyncapi.yaml: channel ${address} is not a topic declared in libs/events/src/topology.ts`);
  }
  for (const [type, topic] of Object.entries(events.eventTopics)) {
    const channel = channelByAddress.get(topic);
    const onChannel = channel ? channel.messages().all().map((m) => m.name() ?? m.id()) : [];
    if (channel && !onChannel.includes(type)) result.errors.push(`channel ${topic}: ${type} is published there (libs/events/src/catalog.ts) but not listed`);
    for (const [otherTopic, otherChannel] of channelByAddress) {
      if (otherTopic !== topic && !otherTopic.endsWith('.dlq') && otherChannel.messages().all().some((m) => (m.name() ?? m.id()) === type)) {
        result.errors.push(`channel ${otherTopic}: lists ${type}, which the code publishes to ${topic}`);
      }
    }
  }
}

// ── 3. OpenAPI ───────────────────────────────────────────────────────────────────────────────

async function checkOpenApi(): Promise<CheckResult> {
  const result: CheckResult = { name: 'OpenAPI documents valid', summary: '', errors: [], warnings: [] };
  const documents = filesUnder(join(repoRoot, 'docs', 'api'), (n) => /\.openapi\.(ya?ml|json)$/.test(n));
  for (const path of documents) {
    try {
      const outcome = await validateOpenApi(path);
      for (const w of outcome.warnings) result.warnings.push(`${rel(path)}: ${w.message}`);
      if (!outcome.valid) for (const e of outcome.errors) result.errors.push(`${rel(path)}: ${e.message}`);
    } catch (error) {
      result.errors.push(`${rel(path)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  result.summary = `${documents.length} document(s)`;
  return result;
}

// ── 4. Avro docs ─────────────────────────────────────────────────────────────────────────────

type AvroType = string | AvroType[] | { type: AvroType; name?: string; doc?: string; fields?: Array<{ name: string; doc?: string; type: AvroType }>; items?: AvroType; values?: AvroType };

/** Records and enums need a doc, and so does every field of a record, nested types included. */
function undocumented(type: AvroType, where: string): string[] {
  if (typeof type === 'string') return []; // a primitive or a reference to a named type
  if (Array.isArray(type)) return type.flatMap((t, i) => undocumented(t, `${where}[${i}]`));
  const problems: string[] = [];
  const kind = typeof type.type === 'string' ? type.type : undefined;
  if (kind === 'record' || kind === 'error' || kind === 'enum') {
    const label = `${where} (${kind} ${type.name ?? '?'})`;
    if (!type.doc?.trim()) problems.push(`${label} has no doc`);
    for (const field of type.fields ?? []) {
      const at = `${where}.${field.name}`;
      if (!field.doc?.trim()) problems.push(`field ${at} has no doc`);
      problems.push(...undocumented(field.type, at));
    }
    return problems;
  }
  if (kind === 'array' && type.items !== undefined) return undocumented(type.items, `${where}[]`);
  if (kind === 'map' && type.values !== undefined) return undocumented(type.values, `${where}{}`);
  if (typeof type.type !== 'string') return undocumented(type.type, where); // { type: { type: 'record', … } }
  return problems; // fixed, or a primitive with a logical type
}

function checkAvroDocs(): CheckResult {
  const result: CheckResult = { name: 'Avro schemas documented', summary: '', errors: [], warnings: [] };
  const files = filesUnder(join(repoRoot, 'schemas'), (n) => n.endsWith('.avsc'));
  for (const path of files) {
    try {
      const schema = JSON.parse(readFileSync(path, 'utf8')) as AvroType;
      for (const problem of undocumented(schema, basename(path, '.avsc'))) result.errors.push(`${rel(path)}: ${problem}`);
    } catch (error) {
      result.errors.push(`${rel(path)}: not JSON (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  if (files.length === 0) result.errors.push('no schemas/*.avsc found');
  result.summary = `${files.length} schema(s)`;
  return result;
}

// ── 5. links ─────────────────────────────────────────────────────────────────────────────────

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, -1, -2 for repeats. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of stripCode(markdown).split('\n')) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading?.[1] !== undefined) {
      const text = heading[1]
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
        .replace(/<[^>]+>/g, '')
        .replace(/`/g, '');
      const base = text
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-');
      const count = seen.get(base) ?? 0;
      seen.set(base, count + 1);
      anchors.add(count === 0 ? base : `${base}-${count}`);
    }
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) if (m[1]) anchors.add(m[1]);
  }
  return anchors;
}

/** Blanks out fenced code blocks and inline code spans (keeping line numbers). */
function stripCode(markdown: string): string {
  return markdown
    .replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, (block) => block.replace(/[^\n]/g, ' '))
    .replace(/`[^`\n]*`/g, (span) => ' '.repeat(span.length));
}

function linksOf(markdown: string): Array<{ target: string; line: number }> {
  const text = stripCode(markdown);
  const links: Array<{ target: string; line: number }> = [];
  const lineAt = (index: number) => text.slice(0, index).split('\n').length;
  // [text](target "title") and ![alt](target), target possibly in <>.
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]*)(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ target: (m[1] ?? '').replace(/^<|>$/g, ''), line: lineAt(m.index) });
  }
  // [id]: target
  for (const m of text.matchAll(/^\s{0,3}\[[^\]]+\]:\s*(\S+)/gm)) links.push({ target: m[1] ?? '', line: lineAt(m.index) });
  // <img src="…"> and <a href="…">
  for (const m of text.matchAll(/<(?:img|a)\s[^>]*(?:src|href)="([^"]+)"/g)) links.push({ target: m[1] ?? '', line: lineAt(m.index) });
  return links;
}

function checkLinks(): CheckResult {
  const result: CheckResult = { name: 'relative links in README.md and docs/ resolve', summary: '', errors: [], warnings: [] };
  const files = [join(repoRoot, 'README.md'), ...filesUnder(join(repoRoot, 'docs'), (n) => n.endsWith('.md'))].filter((p) => existsSync(p));
  const generatedOpenApi = /^docs\/api\/[^/]+\.openapi\.json$/;
  let count = 0;
  for (const file of files) {
    const markdown = readFileSync(file, 'utf8');
    for (const { target, line } of linksOf(markdown)) {
      if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // http:, mailto:, …
      count += 1;
      const [pathPart = '', fragment] = target.split('#', 2);
      const decoded = decodeURIComponent(pathPart.split('?')[0] ?? '');
      const where = `${rel(file)}:${line}`;
      const destination = decoded === '' ? file : decoded.startsWith('/') ? join(repoRoot, decoded) : resolve(dirname(file), decoded);
      if (!existsSync(destination)) {
        if (generatedOpenApi.test(rel(destination))) result.warnings.push(`${where}: ${target} does not exist yet (generated by npm run openapi)`);
        else result.errors.push(`${where}: ${target} does not exist`);
        continue;
      }
      if (fragment && extname(destination) === '.md' && statSync(destination).isFile()) {
        if (!anchorsOf(readFileSync(destination, 'utf8')).has(decodeURIComponent(fragment).toLowerCase())) {
          result.errors.push(`${where}: no heading for #${fragment} in ${rel(destination)}`);
        }
      }
    }
  }
  result.summary = `${count} relative link(s) in ${files.length} file(s)`;
  return result;
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────

const started = Date.now();
const results: CheckResult[] = [];
for (const check of [checkDiagrams, checkAsyncApi, checkOpenApi, checkAvroDocs, checkLinks]) {
  try {
    results.push(await check());
  } catch (error) {
    results.push({ name: check.name, summary: 'crashed', errors: [error instanceof Error ? (error.stack ?? error.message) : String(error)], warnings: [] });
  }
}
for (const r of results) {
  console.log(`${r.errors.length === 0 ? 'ok  ' : 'FAIL'}  ${r.name}: ${r.summary}`);
  for (const e of r.errors) console.log(`        error: ${e}`);
  for (const w of r.warnings) console.log(`        warning: ${w}`);
}
const failed = results.filter((r) => r.errors.length > 0).length;
const warnings = results.reduce((n, r) => n + r.warnings.length, 0);
console.log(`check-docs: ${results.length - failed} passed, ${failed} failed, ${warnings} warning(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failed === 0 ? 0 : 1);
