import { expect, it } from 'vitest';
import { schemaDriftOf } from '@eventflow/testing';

it('the committed migrations build exactly the database schema.prisma describes', async () => {
  expect(await schemaDriftOf(new URL('../', import.meta.url))).toEqual([]);
});
