import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createHttpServer } from '../src/index.js';

it('writes one access-log line per request, and probes only at debug', async () => {
  const lines: Array<{ msg: string; level: number; res?: { statusCode: number } }> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = await createHttpServer({ service: 't', version: '1', description: 't', logger: createLogger('t', 'info', {}, sink), bodyLimit: 1_024, prefix: '/t', readiness: [] });
  app.get('/t/thing', async () => ({ ok: true }));
  await app.inject({ method: 'GET', url: '/t/thing' });
  await app.inject({ method: 'GET', url: '/health/live' });
  await app.close();
  const requestLines = lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed');
  expect(requestLines).toHaveLength(1);
  expect(requestLines[0]).toMatchObject({ msg: 'request completed', level: 30, res: { statusCode: 200 } });
});
