import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOwnedTablesDrift, findSchemaDrift } from '../src/drift.js';

const adminUrl = process.env['PG_ADMIN_URL'] ?? 'postgres://eventflow:eventflow@127.0.0.1:5432/postgres';

const schema = (models: string) => `
datasource db {
  provider = "postgresql"
}

${models}`;

const thing = `
model Thing {
  id        BigInt   @id @default(autoincrement())
  code      String   @unique
  amount    BigInt
  ownerId   String   @map("owner_id") @db.Uuid
  createdAt DateTime @default(now()) @map("created_at") @db.Timestamptz(3)

  @@index([ownerId])
  @@map("things")
}`;

const migration = (overrides: Partial<Record<'amount' | 'owner' | 'unique', string>> = {}) => `
CREATE TABLE "things" (
    "id" BIGSERIAL NOT NULL,
    "code" TEXT NOT NULL,
    ${overrides.amount ?? '"amount" BIGINT NOT NULL,'}
    ${overrides.owner ?? '"owner_id" UUID NOT NULL,'}
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "things_pkey" PRIMARY KEY ("id")
);
${overrides.unique ?? 'CREATE UNIQUE INDEX "things_code_key" ON "things"("code");'}
CREATE INDEX "things_owner_id_idx" ON "things"("owner_id");
-- hand-written additions are ignored:
CREATE INDEX "things_recent_idx" ON "things"("id") WHERE "code" <> '';
ALTER TABLE "things" ADD CONSTRAINT "things_id_positive" CHECK ("id" > 0);
`;

const tempDirs: string[] = [];

function project(prismaSchema: string, sql: string) {
  const dir = mkdtempSync(join(tmpdir(), 'drift-'));
  tempDirs.push(dir);
  mkdirSync(join(dir, 'migrations', '20260101000000_init'), { recursive: true });
  writeFileSync(join(dir, 'schema.prisma'), prismaSchema);
  writeFileSync(join(dir, 'migrations', '20260101000000_init', 'migration.sql'), sql);
  return { adminUrl, schemaPath: join(dir, 'schema.prisma'), migrationsDir: join(dir, 'migrations') };
}

afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('findSchemaDrift', () => {
  it('finds nothing when the migrations build what the schema says', async () => {
    expect(await findSchemaDrift(project(schema(thing), migration()))).toEqual([]);
  });

  it('reports a column the migrations do not create', async () => {
    const drift = await findSchemaDrift(project(schema(thing), migration({ amount: '' })));
    expect(drift).toEqual(['in schema.prisma, not built by the migrations: column things.amount bigint not null no default']);
  });

  it('reports a changed type and a column made nullable', async () => {
    const drift = await findSchemaDrift(project(schema(thing), migration({ amount: '"amount" INTEGER NOT NULL,', owner: '"owner_id" UUID,' })));
    expect(drift).toEqual(
      expect.arrayContaining([
        'built by the migrations, not in schema.prisma: column things.amount integer not null no default',
        'built by the migrations, not in schema.prisma: column things.owner_id uuid null no default',
      ]),
    );
  });

  it('reports a unique index the migrations leave out', async () => {
    const drift = await findSchemaDrift(project(schema(thing), migration({ unique: '' })));
    expect(drift).toEqual(['in schema.prisma, not built by the migrations: unique things(code)']);
  });

  it('reports a model added to schema.prisma without a migration', async () => {
    const extra = `${thing}\nmodel Label {\n  id String @id\n  @@map("labels")\n}`;
    const drift = await findSchemaDrift(project(schema(extra), migration()));
    expect(drift).toEqual(
      expect.arrayContaining([
        'in schema.prisma, not built by the migrations: table labels',
        'in schema.prisma, not built by the migrations: primary key labels(id)',
      ]),
    );
  });
});

describe('findOwnedTablesDrift', () => {
  // A library that owns "things": its SQL and its Prisma model fragment.
  const library = () => {
    const dir = mkdtempSync(join(tmpdir(), 'owned-'));
    tempDirs.push(dir);
    writeFileSync(join(dir, 'things.sql'), migration());
    writeFileSync(join(dir, 'things.prisma'), thing);
    return [{ table: 'things', sqlPath: join(dir, 'things.sql'), prismaPath: join(dir, 'things.prisma') }];
  };
  const label = `model Label {\n  id String @id\n  @@map("labels")\n}`;
  const labelsSql = 'CREATE TABLE "labels" ("id" TEXT NOT NULL, CONSTRAINT "labels_pkey" PRIMARY KEY ("id"));';

  it('finds nothing when the service copies the library tables exactly, next to tables of its own', async () => {
    const service = project(schema(`${thing}\n${label}`), `${migration()}\n${labelsSql}`);
    expect(await findOwnedTablesDrift({ ...service, owned: library() })).toEqual([]);
  });

  it('reports a hand-written index the service migrations leave out', async () => {
    const service = project(schema(thing), migration().replace(/CREATE INDEX "things_recent_idx".*\n/, ''));
    expect(await findOwnedTablesDrift({ ...service, owned: library() })).toEqual([
      "built by the library's SQL, not by the migrations: index CREATE INDEX things_recent_idx ON public.things USING btree (id) WHERE (code <> ''::text)",
    ]);
  });

  it('reports a column whose type the service changed in schema.prisma and in its migrations', async () => {
    const service = project(schema(thing.replace('amount    BigInt', 'amount    Int')), migration({ amount: '"amount" INTEGER NOT NULL,' }));
    expect(await findOwnedTablesDrift({ ...service, owned: library() })).toEqual([
      "built by the library's SQL, not by the migrations: column things.amount bigint not null default none",
      'built by the migrations, not by the library\'s SQL: column things.amount integer not null default none',
      "in schema.prisma, not in the library's Prisma model: column things.amount integer not null no default",
      "in the library's Prisma model, not in schema.prisma: column things.amount bigint not null no default",
    ]);
  });
});
