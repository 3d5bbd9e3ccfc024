import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import internals from '@prisma/internals';
import pg from 'pg';
import { migrateDatabase } from '@eventflow/platform/db';

/**
 * Proves that the committed migrations build exactly the database schema.prisma describes.
 * Prisma's own `migrate diff` needs the native schema engine, which cannot be downloaded here,
 * so this applies the migrations to a scratch database, introspects it, and compares it with
 * the model read by Prisma's own parser (getDMMF, WebAssembly). Both sides are reduced to
 * "facts" (tables, columns with type/nullability/default, keys, indexes, foreign keys, enums);
 * every fact on one side only is drift. Hand-written additions Prisma cannot express (CHECK
 * constraints, partial indexes) are outside the comparison by design.
 */

type Dmmf = Awaited<ReturnType<typeof internals.getDMMF>>;

const list = (columns: string[]) => `(${columns.join(', ')})`;

function pgType(type: string, nativeType: readonly [string, readonly string[]] | null | undefined, kind: string): string {
  if (kind === 'enum') return `enum ${type}`;
  const [native, args = []] = nativeType ?? [];
  if (native) {
    const base: Record<string, string> = {
      Uuid: 'uuid',
      Timestamptz: 'timestamp with time zone',
      Timestamp: 'timestamp without time zone',
      VarChar: 'character varying',
      Text: 'text',
      Integer: 'integer',
      BigInt: 'bigint',
      JsonB: 'jsonb',
      Json: 'json',
    };
    return `${base[native] ?? native.toLowerCase()}${args.length > 0 ? `(${args.join(',')})` : ''}`;
  }
  const defaults: Record<string, string> = {
    String: 'text',
    BigInt: 'bigint',
    Int: 'integer',
    Boolean: 'boolean',
    Json: 'jsonb',
    DateTime: 'timestamp without time zone(3)',
    Float: 'double precision',
    Decimal: 'numeric(65,30)',
    Bytes: 'bytea',
  };
  return defaults[type] ?? type;
}

export function expectedFacts(dmmf: Dmmf): Set<string> {
  const facts = new Set<string>();
  const { models, enums, indexes } = dmmf.datamodel;
  const tableOf = (model: string) => {
    const m = models.find((x) => x.name === model);
    return m?.dbName ?? model;
  };
  const columnOf = (model: string, field: string) => {
    const f = models.find((x) => x.name === model)?.fields.find((x) => x.name === field);
    return f?.dbName ?? field;
  };
  for (const e of enums) facts.add(`enum ${e.dbName ?? e.name} ${list(e.values.map((v) => v.dbName ?? v.name))}`);
  for (const model of models) {
    const table = model.dbName ?? model.name;
    facts.add(`table ${table}`);
    for (const field of model.fields) {
      if (field.kind === 'object') {
        if (field.relationFromFields && field.relationFromFields.length > 0) {
          facts.add(
            `foreign key ${table}${list(field.relationFromFields.map((f) => columnOf(model.name, f)))} -> ` +
              `${tableOf(field.type)}${list((field.relationToFields ?? []).map((f) => columnOf(field.type, f)))}`,
          );
        }
        continue;
      }
      const column = field.dbName ?? field.name;
      const type = pgType(field.type, field.nativeType as [string, string[]] | null, field.kind);
      facts.add(`column ${table}.${column} ${type} ${field.isRequired ? 'not null' : 'null'} ${field.hasDefaultValue ? 'default' : 'no default'}`);
    }
  }
  for (const index of indexes) {
    const kind = index.type === 'id' ? 'primary key' : index.type === 'unique' ? 'unique' : 'index';
    facts.add(`${kind} ${tableOf(index.model)}${list(index.fields.map((f) => columnOf(index.model, f.name)))}`);
  }
  return facts;
}

export async function introspectedFacts(client: pg.Client): Promise<Set<string>> {
  const facts = new Set<string>();
  const skip = "NOT IN ('_prisma_migrations')";
  const enums = await client.query<{ name: string; labels: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder)::text[] AS labels
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' GROUP BY t.typname`);
  for (const e of enums.rows) facts.add(`enum ${e.name} ${list(e.labels)}`);

  const columns = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    udt_name: string;
    is_nullable: string;
    column_default: string | null;
    datetime_precision: number | null;
  }>(`
    SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, datetime_precision
    FROM information_schema.columns WHERE table_schema = 'public' AND table_name ${skip}`);
  const tables = new Set(columns.rows.map((c) => c.table_name));
  for (const t of tables) facts.add(`table ${t}`);
  for (const c of columns.rows) {
    let type = c.data_type === 'USER-DEFINED' ? `enum ${c.udt_name}` : c.data_type;
    if (c.data_type.startsWith('timestamp')) type = `${c.data_type}(${c.datetime_precision})`;
    facts.add(`column ${c.table_name}.${c.column_name} ${type} ${c.is_nullable === 'YES' ? 'null' : 'not null'} ${c.column_default === null ? 'no default' : 'default'}`);
  }

  const indexes = await client.query<{ table: string; primary: boolean; unique: boolean; partial: boolean; columns: string[] }>(`
    SELECT c.relname AS table, ix.indisprimary AS primary, ix.indisunique AS unique, ix.indpred IS NOT NULL AS partial,
           array_agg(a.attname ORDER BY k.ord)::text[] AS columns
    FROM pg_index ix
    JOIN pg_class c ON c.oid = ix.indrelid
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE n.nspname = 'public' AND c.relname ${skip}
    GROUP BY c.relname, i.relname, ix.indisprimary, ix.indisunique, ix.indpred`);
  for (const i of indexes.rows) {
    if (i.partial) continue; // hand-written additions
    facts.add(`${i.primary ? 'primary key' : i.unique ? 'unique' : 'index'} ${i.table}${list(i.columns)}`);
  }

  const foreignKeys = await client.query<{ table: string; ref: string; columns: string[]; ref_columns: string[] }>(`
    SELECT con.conrelid::regclass::text AS table, con.confrelid::regclass::text AS ref,
      ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
            JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS columns,
      ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
            JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o)::text[] AS ref_columns
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
    WHERE con.contype = 'f' AND n.nspname = 'public'`);
  for (const fk of foreignKeys.rows) {
    facts.add(`foreign key ${fk.table.replaceAll('"', '')}${list(fk.columns)} -> ${fk.ref.replaceAll('"', '')}${list(fk.ref_columns)}`);
  }
  return facts;
}

/** Differences between schema.prisma and the database the migrations build; empty means no drift. */
export async function findSchemaDrift(options: { adminUrl: string; schemaPath: string; migrationsDir: string }): Promise<string[]> {
  const dmmf = await internals.getDMMF({ datamodel: readFileSync(options.schemaPath, 'utf8') });
  const expected = expectedFacts(dmmf);
  const name = `drift_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: options.adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(options.adminUrl);
    url.pathname = `/${name}`;
    await migrateDatabase({ databaseUrl: url.toString(), migrationsDir: options.migrationsDir });
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    let actual: Set<string>;
    try {
      actual = await introspectedFacts(client);
    } finally {
      await client.end();
    }
    return [
      ...[...expected].filter((f) => !actual.has(f)).map((f) => `in schema.prisma, not built by the migrations: ${f}`),
      ...[...actual].filter((f) => !expected.has(f)).map((f) => `built by the migrations, not in schema.prisma: ${f}`),
    ].sort();
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/** A table a library owns: its DDL and Prisma model fragment (OwnedTable of @eventflow/messaging). */
export interface OwnedTableDefinition {
  table: string;
  sqlPath: string;
  prismaPath: string;
}

const factTable = (fact: string): string | undefined =>
  fact.match(/^(?:table|primary key|unique|index) ([a-z_0-9]+)/)?.[1] ??
  fact.match(/^column ([a-z_0-9]+)\./)?.[1] ??
  fact.match(/^foreign key ([a-z_0-9]+)\(/)?.[1];

/** Exact definition of the given tables as PostgreSQL reports it: columns, constraints, indexes. */
async function tableDefinitions(client: pg.Client, tables: string[]): Promise<Set<string>> {
  const facts = new Set<string>();
  const columns = await client.query<{ table_name: string; column_name: string; type: string; is_nullable: string; column_default: string | null }>(
    `SELECT c.table_name, c.column_name, format_type(a.atttypid, a.atttypmod) AS type, c.is_nullable, c.column_default
     FROM information_schema.columns c
     JOIN pg_attribute a ON a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass AND a.attname = c.column_name
     WHERE c.table_schema = 'public' AND c.table_name = ANY($1)`,
    [tables],
  );
  for (const c of columns.rows) {
    facts.add(`column ${c.table_name}.${c.column_name} ${c.type} ${c.is_nullable === 'YES' ? 'null' : 'not null'} default ${c.column_default ?? 'none'}`);
  }
  const constraints = await client.query<{ table: string; name: string; definition: string }>(
    `SELECT rel.relname AS table, con.conname AS name, pg_get_constraintdef(con.oid) AS definition
     FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace
     WHERE n.nspname = 'public' AND rel.relname = ANY($1)`,
    [tables],
  );
  for (const c of constraints.rows) facts.add(`constraint ${c.table}.${c.name} ${c.definition}`);
  const indexes = await client.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY($1)`, [tables]);
  for (const i of indexes.rows) facts.add(`index ${i.indexdef}`);
  return facts;
}

async function withScratchDatabase<T>(adminUrl: string, use: (url: string) => Promise<T>): Promise<T> {
  const name = `owned_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await use(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function definitionsBuiltBy(adminUrl: string, tables: string[], build: (url: string) => Promise<void>): Promise<Set<string>> {
  return withScratchDatabase(adminUrl, async (url) => {
    await build(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await tableDefinitions(client, tables);
    } finally {
      await client.end();
    }
  });
}

/**
 * Differences between a service's copies of tables a library owns and the library's definition
 * ([] = none): the models in schema.prisma against the library's Prisma fragments, and the tables
 * the service's migrations build against the ones the library's SQL builds (columns with types and
 * defaults, constraints, every index including hand-written partial ones).
 */
export async function findOwnedTablesDrift(options: {
  adminUrl: string;
  schemaPath: string;
  migrationsDir: string;
  owned: OwnedTableDefinition[];
}): Promise<string[]> {
  const tables = options.owned.map((o) => o.table);
  const ofOwnedTables = (facts: Set<string>) => new Set([...facts].filter((f) => tables.includes(factTable(f) ?? '')));
  const serviceModel = ofOwnedTables(expectedFacts(await internals.getDMMF({ datamodel: readFileSync(options.schemaPath, 'utf8') })));
  const libraryModel = expectedFacts(
    await internals.getDMMF({
      datamodel: ['datasource db {\n  provider = "postgresql"\n}', ...options.owned.map((o) => readFileSync(o.prismaPath, 'utf8'))].join('\n\n'),
    }),
  );
  const serviceTables = await definitionsBuiltBy(options.adminUrl, tables, async (url) => {
    await migrateDatabase({ databaseUrl: url, migrationsDir: options.migrationsDir });
  });
  const libraryTables = await definitionsBuiltBy(options.adminUrl, tables, async (url) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      for (const owned of options.owned) await client.query(readFileSync(owned.sqlPath, 'utf8'));
    } finally {
      await client.end();
    }
  });
  const difference = (a: Set<string>, b: Set<string>) => [...a].filter((f) => !b.has(f));
  return [
    ...difference(libraryModel, serviceModel).map((f) => `in the library's Prisma model, not in schema.prisma: ${f}`),
    ...difference(serviceModel, libraryModel).map((f) => `in schema.prisma, not in the library's Prisma model: ${f}`),
    ...difference(libraryTables, serviceTables).map((f) => `built by the library's SQL, not by the migrations: ${f}`),
    ...difference(serviceTables, libraryTables).map((f) => `built by the migrations, not by the library's SQL: ${f}`),
  ].sort();
}
