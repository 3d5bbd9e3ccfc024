import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createHttpServer, type HttpServer } from '../src/index.js';

let database = true;
let broker = true;
let app: HttpServer;

beforeAll(async () => {
  app = await createHttpServer({
    service: 'test',
    version: '1.0.0',
    description: 'test',
    logger: createLogger('http-test', 'silent'),
    bodyLimit: 1_024,
    prefix: '/things',
    readiness: [
      {
        name: 'database',
        check: async () => {
          if (!database) throw new Error('database down');
        },
      },
      {
        name: 'broker',
        critical: false,
        check: async () => {
          if (!broker) throw new Error('broker down');
        },
      },
    ],
  });
  await app.ready();
});
afterAll(() => app.close());

const ready = async () => {
  const response = await app.inject({ method: 'GET', url: '/health/ready' });
  return { status: response.statusCode, body: response.json() };
};

describe('readiness with a non-critical check', () => {
  it('stays ready (200, degraded) while only a non-critical dependency fails, and names it', async () => {
    database = true;
    broker = true;
    expect(await ready()).toEqual({ status: 200, body: { status: 'ready', checks: { database: 'ok', broker: 'ok' } } });
    broker = false;
    expect(await ready()).toEqual({ status: 200, body: { status: 'degraded', checks: { database: 'ok', broker: 'broker down' } } });
  });

  it('is not ready when a critical dependency fails', async () => {
    database = false;
    broker = false;
    expect(await ready()).toEqual({ status: 503, body: { status: 'not-ready', checks: { database: 'database down', broker: 'broker down' } } });
    database = true;
    broker = true;
  });
});
