import { expect, it } from 'vitest';
import { inboxTable } from '@eventflow/messaging/schema';
import { ownedTablesDriftOf, schemaDriftOf } from '@eventflow/testing';

const serviceRoot = new URL('../', import.meta.url);

it('the committed migrations build exactly the database schema.prisma describes', async () => {
  expect(await schemaDriftOf(serviceRoot)).toEqual([]);
});

it('its inbox table is exactly the one @eventflow/messaging defines (schema.prisma and migrations)', async () => {
  expect(await ownedTablesDriftOf(serviceRoot, [inboxTable])).toEqual([]);
});
