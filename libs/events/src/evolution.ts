/**
 * Schema evolution rules, decided by avsc's own resolver (`Type#createResolver`): a reader schema
 * can read data written with a writer schema exactly when avsc can build a resolver between them.
 * Pure: no registry, no git, no files; the `npm run schemas -- check` gate (scripts/schemas.ts)
 * feeds it the released versions and the consumers' reader schemas.
 *
 * Deliberately free of the generated catalogue, so the gate can run before code is generated.
 */
import avro from 'avsc';

/** The registry's compatibility levels (Confluent's names, which Apicurio's ccompat API uses too). */
export const compatibilityLevels = ['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE'] as const;
export type CompatibilityLevel = (typeof compatibilityLevels)[number];

export const isCompatibilityLevel = (value: unknown): value is CompatibilityLevel => (compatibilityLevels as readonly unknown[]).includes(value);

type RecordField = { name: string; aliases?: string[]; type: avro.Type; defaultValue(): unknown };
type RecordLike = avro.Type & { fields: RecordField[] };

const isRecord = (type: avro.Type): type is RecordLike => type.typeName === 'record' || type.typeName === 'error';
const shortName = (type: avro.Type): string => (type.name ?? type.typeName).split('.').pop() ?? type.typeName;
const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Why a reader cannot read a writer's data: the field where resolution fails and avsc's reason. */
export interface ReadProblem {
  /** Path of the field, e.g. `OrderPlaced.discount` or `OrderPlaced.metadata.eventId`; the record's name when the records themselves do not match. */
  field: string;
  reason: string;
}

/**
 * Null when data written with `writer` can be read with `reader`; otherwise the innermost field
 * where avsc's resolver fails, so the gate can name it.
 */
export function readProblem(reader: avro.Schema, writer: avro.Schema): ReadProblem | null {
  const readerType = avro.Type.forSchema(reader);
  const writerType = avro.Type.forSchema(writer);
  try {
    readerType.createResolver(writerType);
    return null;
  } catch (error) {
    return locate(readerType, writerType, shortName(readerType), messageOf(error));
  }
}

/** Walks matching record fields to find the one avsc's resolver refuses. */
function locate(reader: avro.Type, writer: avro.Type, path: string, reason: string): ReadProblem {
  if (!isRecord(reader) || !isRecord(writer)) return { field: path, reason };
  const writerFields = new Map(writer.fields.map((f) => [f.name, f]));
  for (const field of reader.fields) {
    const written = [field.name, ...(field.aliases ?? [])].map((n) => writerFields.get(n)).find((f) => f !== undefined);
    const at = `${path}.${field.name}`;
    if (!written) {
      if (field.defaultValue() === undefined) {
        return { field: at, reason: `the reader requires "${field.name}" (it has no default) and the writer's ${shortName(writer)} does not have it` };
      }
      continue;
    }
    try {
      field.type.createResolver(written.type);
    } catch (error) {
      return locate(field.type, written.type, at, messageOf(error));
    }
  }
  return { field: path, reason };
}

/** The direction of a rule: BACKWARD = the new schema reads old data; FORWARD = old readers read new data. */
export type Rule = 'BACKWARD' | 'FORWARD';

export interface SchemaVersion {
  /** How the version is named where it came from: registry version "2", or a git ref "v0.1.0". */
  label: string;
  schema: avro.Schema;
}

/** What is released of one event type: its versions in order (oldest first) and the level that governs it. */
export interface ReleasedHistory {
  /** Where the versions came from, e.g. `registry subject order-events-io.eventflow.orders.OrderPaid` or `git v0.1.0`. */
  source: string;
  level: CompatibilityLevel;
  versions: SchemaVersion[];
}

/** A deployed consumer of an event type and the reader schema it was built with. */
export interface ConsumerReader {
  consumer: string;
  reader: SchemaVersion;
}

export interface Violation {
  eventType: string;
  rule: Rule;
  /** The field avsc's resolver stops at. */
  field: string;
  message: string;
}

export interface Check {
  eventType: string;
  rule: Rule;
  description: string;
  violation: Violation | null;
}

/** Which released versions a level compares the new schema with, in which direction. */
function comparedVersions(level: CompatibilityLevel, versions: SchemaVersion[]): Array<{ rule: Rule; version: SchemaVersion }> {
  if (level === 'NONE' || versions.length === 0) return [];
  const transitive = level.endsWith('_TRANSITIVE');
  const chosen = transitive ? versions : versions.slice(-1);
  const rules: Rule[] = level.startsWith('BACKWARD') ? ['BACKWARD'] : level.startsWith('FORWARD') ? ['FORWARD'] : ['BACKWARD', 'FORWARD'];
  return rules.flatMap((rule) => chosen.map((version) => ({ rule, version })));
}

/**
 * Every check one event type's new schema must pass:
 *  - the level's rule against the released versions (BACKWARD: the new schema reads events written
 *    with the latest released version — all of them when _TRANSITIVE; FORWARD the other way round);
 *  - every deployed consumer's reader schema reads events written with the new schema (FORWARD,
 *    whatever the level): producers and consumers are deployed independently, so for a while
 *    consumers built on the released schema read what the new producer writes.
 */
export function evolutionChecks(eventType: string, current: avro.Schema, released: ReleasedHistory | null, consumers: ConsumerReader[]): Check[] {
  const checks: Check[] = [];
  const check = (rule: Rule, reader: avro.Schema, writer: avro.Schema, description: string, explain: (p: ReadProblem) => string) => {
    const problem = readProblem(reader, writer);
    checks.push({
      eventType,
      rule,
      description,
      violation: problem ? { eventType, rule, field: problem.field, message: `${rule} violated at field ${problem.field}: ${explain(problem)}: ${problem.reason}` } : null,
    });
  };
  for (const { rule, version } of released ? comparedVersions(released.level, released.versions) : []) {
    const where = `${released?.source ?? ''} version ${version.label}`;
    if (rule === 'BACKWARD') {
      check(rule, current, version.schema, `the new ${eventType} reads events written with ${where} (level ${released?.level})`, () => `the new ${eventType} schema cannot read events written with ${where}`);
    } else {
      check(rule, version.schema, current, `${where} reads events written with the new ${eventType} (level ${released?.level})`, () => `readers on ${where} cannot read events written with the new ${eventType} schema`);
    }
  }
  for (const { consumer, reader } of consumers) {
    check('FORWARD', reader.schema, current, `${consumer}'s deployed reader (${reader.label}) reads events written with the new ${eventType}`, () => `${consumer}, still deployed with ${reader.label} as its reader, cannot read events written with the new ${eventType} schema`);
  }
  return checks;
}
