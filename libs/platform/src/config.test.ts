import { Type } from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, commonConfigSchema, loadConfig, splitList } from './config.js';

const schema = Type.Object({ ...commonConfigSchema, PORT: Type.Integer({ minimum: 1, maximum: 65_535, default: 3000 }) });
const valid = {
  DATABASE_URL: 'postgres://u:p@localhost:5432/db',
  KAFKA_BROKERS: 'a:9092,b:9092',
  SCHEMA_REGISTRY_URL: 'http://registry:8080/apis/ccompat/v7',
  JWT_PUBLIC_KEYS: '-----BEGIN PUBLIC KEY-----',
};

describe('loadConfig', () => {
  it('fills defaults and converts numbers', () => {
    const config = loadConfig('svc', schema, { ...valid, PORT: '8080' });
    expect(config).toMatchObject({ PORT: 8080, HOST: '0.0.0.0', LOG_LEVEL: 'info', OUTBOX_BATCH_SIZE: 100 });
  });

  it('reports every missing variable at once, naming the service', () => {
    let error: unknown;
    try {
      loadConfig('billing-service', schema, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toContain('billing-service');
    for (const name of ['DATABASE_URL', 'KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'JWT_PUBLIC_KEYS']) expect(message).toContain(name);
  });

  it('rejects malformed values', () => {
    expect(() => loadConfig('svc', schema, { ...valid, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadConfig('svc', schema, { ...valid, PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig('svc', schema, { ...valid, LOG_LEVEL: 'loud' })).toThrow(ConfigError);
  });

  it('splits comma-separated lists', () => {
    expect(splitList(' a:1, b:2 ,,')).toEqual(['a:1', 'b:2']);
  });
});
