import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createHttpServer, type HttpServer } from '../src/index.js';

// What a wrong password makes the database check throw (Prisma's message).
const refused = 'Authentication failed against the database server, the provided database credentials for `user_service` are not valid';
let databaseError: string | undefined = refused;
const lines: Array<{ level: number; msg: string; check?: string; reason?: string }> = [];
let app: HttpServer;

beforeAll(async () => {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  app = await createHttpServer({
    service: 'test',
    version: '1.0.0',
    description: 'test',
    logger: createLogger('readiness-test', 'info', {}, stream),
    bodyLimit: 1_024,
    prefix: '/things',
    readiness: [
      {
        name: 'database',
        check: async () => {
          if (databaseError) throw new Error(databaseError);
        },
      },
      { name: 'kafka', critical: false, check: async () => {} },
    ],
  });
});
afterAll(async () => {
  await app.close();
});

const readiness = () => lines.filter((l) => l.msg.startsWith('readiness:'));

describe('readiness log', () => {
  it('logs why the instance is not ready once per change, not on every probe', async () => {
    for (let probe = 0; probe < 3; probe++) {
      const response = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toMatchObject({ status: 'not-ready', checks: { database: refused, kafka: 'ok' } });
    }
    expect(readiness()).toEqual([
      expect.objectContaining({ level: 40, check: 'database', reason: refused, msg: `readiness: database failing (not ready): ${refused}` }),
    ]);

    databaseError = undefined;
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    await app.inject({ method: 'GET', url: '/health/ready' });
    expect(readiness().map((l) => l.msg)).toEqual([`readiness: database failing (not ready): ${refused}`, 'readiness: database ok again']);
  });
});
