import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { evolutionChecks, readProblem, type ReleasedHistory } from './evolution.js';

const released = {
  type: 'record',
  name: 'OrderPlaced',
  namespace: 'io.eventflow.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'price', type: 'long' },
  ],
} as const;

const withField = (field: Record<string, unknown>) => ({ ...released, fields: [...released.fields, field] }) as unknown as Schema;
const history = (level: ReleasedHistory['level'], ...schemas: Schema[]): ReleasedHistory => ({
  source: 'registry subject order-events-io.eventflow.orders.OrderPlaced',
  level,
  versions: schemas.map((schema, i) => ({ label: String(i + 1), schema })),
});
const violations = (...args: Parameters<typeof evolutionChecks>) => evolutionChecks(...args).flatMap((c) => (c.violation ? [c.violation] : []));
const billing = (schema: Schema) => [{ consumer: 'billing-service', reader: { label: 'version 1', schema } }];

describe('readProblem (avsc resolver)', () => {
  it('lets a reader fill a field the writer lacks from its default, and skip one it does not know', () => {
    const optional = withField({ name: 'currency', type: 'string', default: 'EUR' });
    expect(readProblem(optional, released as unknown as Schema)).toBeNull();
    expect(readProblem(released as unknown as Schema, optional)).toBeNull();
  });

  it('names the field a reader requires without a default', () => {
    expect(readProblem(withField({ name: 'discount', type: 'long' }), released as unknown as Schema)).toEqual({
      field: 'OrderPlaced.discount',
      reason: expect.stringContaining('no default') as string,
    });
  });

  it('names a nested field whose type cannot be promoted', () => {
    const nested = (idType: string) => ({ type: 'record', name: 'A', fields: [{ name: 'meta', type: { type: 'record', name: 'M', fields: [{ name: 'id', type: idType }] } }] }) as Schema;
    expect(readProblem(nested('long'), nested('int'))).toBeNull(); // int → long is a promotion
    expect(readProblem(nested('int'), nested('long'))?.field).toBe('A.meta.id');
  });
});

describe('evolutionChecks', () => {
  it('accepts an optional field with a default under BACKWARD, for the new schema and for every deployed consumer', () => {
    const next = withField({ name: 'currency', type: 'string', default: 'EUR' });
    const checks = evolutionChecks('OrderPlaced', next, history('BACKWARD', released as unknown as Schema), billing(released as unknown as Schema));
    expect(checks.map((c) => c.rule)).toEqual(['BACKWARD', 'FORWARD']);
    expect(checks.every((c) => c.violation === null)).toBe(true);
  });

  it('refuses a new field without a default: BACKWARD, naming the field', () => {
    const next = withField({ name: 'discount', type: 'long' });
    const [violation, ...others] = violations('OrderPlaced', next, history('BACKWARD', released as unknown as Schema), billing(released as unknown as Schema));
    expect(others).toEqual([]);
    expect(violation).toMatchObject({ rule: 'BACKWARD', field: 'OrderPlaced.discount' });
    expect(violation?.message).toMatch(/^BACKWARD violated at field OrderPlaced\.discount: the new OrderPlaced schema cannot read events written with registry subject .* version 1/);
  });

  it('refuses removing a field a deployed consumer requires: FORWARD for that consumer', () => {
    const next = { ...released, fields: released.fields.filter((f) => f.name !== 'price') } as unknown as Schema;
    const found = violations('OrderPlaced', next, history('BACKWARD', released as unknown as Schema), billing(released as unknown as Schema));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ rule: 'FORWARD', field: 'OrderPlaced.price' });
    expect(found[0]?.message).toContain('billing-service');
  });

  it('compares with the latest version only, unless the level is transitive', () => {
    const v1 = released as unknown as Schema;
    const v2 = withField({ name: 'currency', type: 'string', default: 'EUR' });
    const v3 = { ...(v2 as object), fields: [...released.fields, { name: 'currency', type: 'string' }] } as unknown as Schema; // default dropped
    expect(violations('OrderPlaced', v3, history('BACKWARD', v1, v2), [])).toEqual([]);
    expect(violations('OrderPlaced', v3, history('BACKWARD_TRANSITIVE', v1, v2), [])).toMatchObject([{ rule: 'BACKWARD', field: 'OrderPlaced.currency' }]);
    expect(violations('OrderPlaced', v3, history('NONE', v1, v2), [])).toEqual([]);
  });

  it('checks both directions under FULL', () => {
    const checks = evolutionChecks('OrderPlaced', released as unknown as Schema, history('FULL', released as unknown as Schema), []);
    expect(checks.map((c) => c.rule)).toEqual(['BACKWARD', 'FORWARD']);
  });
});
