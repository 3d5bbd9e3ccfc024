/**
 * A too-large body over a real socket: the sender gets the 413 problem, not a reset connection
 * (what made the local gateway answer `500 write EPIPE`), and the connection stays usable.
 */
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createHttpServer, type HttpServer } from '../src/index.js';

let app: HttpServer;
let port: number;

beforeAll(async () => {
  app = await createHttpServer({
    service: 'test',
    version: '1.0.0',
    description: 'test',
    logger: createLogger('http-test', 'silent'),
    bodyLimit: 16_384,
    prefix: '/things',
    readiness: [],
  });
  app.post('/things', async () => ({ ok: true }));
  app.get('/things/ping', async () => ({ pong: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await app.close();
});

/** Reads from the socket until `complete` says a whole answer is in, or the socket ends. */
function readAnswer(socket: Socket, complete: (text: string) => boolean): Promise<{ text: string; error?: string }> {
  return new Promise((resolve) => {
    let text = '';
    const done = (error?: string) => {
      socket.removeAllListeners('data');
      resolve({ text, ...(error ? { error } : {}) });
    };
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (complete(text)) done();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
    socket.once('close', () => done('closed'));
  });
}

const hasBody = (text: string) => {
  const [head, body = ''] = text.split('\r\n\r\n');
  const length = Number(/content-length: (\d+)/i.exec(head ?? '')?.[1] ?? NaN);
  return Number.isFinite(length) && Buffer.byteLength(body, 'latin1') >= length;
};

describe('a body over the limit', () => {
  for (const size of [1_000_000, 10_000_000]) {
    it(`of ${size / 1_000_000} MB, sent in full, gets the 413 problem and the connection serves the next request`, async () => {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      const body = Buffer.alloc(size, 'a');
      socket.write(`POST /things HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
      const answer = readAnswer(socket, hasBody);
      // Writing the whole body must not fail: a reset here is what a proxy reported as EPIPE.
      const written = await new Promise<string>((resolve) => socket.write(body, (error) => resolve(error ? ((error as NodeJS.ErrnoException).code ?? 'error') : 'ok')));
      const first = await answer;
      expect(written).toBe('ok');
      expect(first.error).toBeUndefined();
      expect(first.text).toMatch(/^HTTP\/1\.1 413 /);
      expect(first.text).toMatch(/content-type: application\/problem\+json/i);
      expect(first.text).not.toMatch(/connection: close/i);

      const next = readAnswer(socket, hasBody);
      socket.write('GET /things/ping HTTP/1.1\r\nHost: test\r\n\r\n');
      const second = await next;
      expect(second.text).toMatch(/^HTTP\/1\.1 200 /);
      expect(second.text).toContain('"pong":true');
      socket.destroy();
    });
  }

  it('of undeclared length still gets its 413, on a connection that is then closed', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/things`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`{"a":"${'x'.repeat(20_000)}"}`));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
