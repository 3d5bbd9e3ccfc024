import { expect, it } from 'vitest';
import { idempotencyKeysTable } from '@eventflow/http/schema';
import { inboxTable, outboxTable } from '@eventflow/messaging/schema';
import { ownedTablesDriftOf, schemaDriftOf } from '@eventflow/testing';

const serviceRoot = new URL('../', import.meta.url);

it('the committed migrations build exactly the database schema.prisma describes', async () => {
  expect(await schemaDriftOf(serviceRoot)).toEqual([]);
});

it('its outbox and inbox tables are exactly the ones @eventflow/messaging defines (schema.prisma and migrations)', async () => {
  expect(await ownedTablesDriftOf(serviceRoot, [inboxTable, outboxTable])).toEqual([]);
});

it('its idempotency_keys table is exactly the one @eventflow/http defines (schema.prisma and migrations)', async () => {
  expect(await ownedTablesDriftOf(serviceRoot, [idempotencyKeysTable])).toEqual([]);
});
