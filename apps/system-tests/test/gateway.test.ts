/**
 * The local entry point (npm start's gateway on :8080) in front of the real services: it passes
 * the services' answers through (a 413 included), never hangs, answers a service that is down as
 * nginx would (503 problem+json with Retry-After) and writes one log line per request.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { startReadyService, stateDir, stopService } from '@eventflow/system-harness';
import { waitFor } from '@eventflow/testing';

const baseUrl = () => inject('baseUrl');
/** Every call has a deadline: a hang fails the test instead of stalling it. */
const call = (path: string, init: RequestInit = {}) => fetch(`${baseUrl()}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
const bigBody = (bytes: number) => JSON.stringify({ email: 'big@example.com', password: 'x'.repeat(bytes), name: 'Big' });

describe('the local gateway', () => {
  for (const bytes of [1_000_000, 10_000_000]) {
    it(`passes through the service's 413 for a ${bytes / 1_000_000} MB body, and the next requests are answered at once`, async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        const response = await call('/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bigBody(bytes) });
        expect(response.status).toBe(413);
        expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await response.json()).toMatchObject({ status: 413, title: 'Payload too large' });
        // The same service through the same gateway, right after: answered, not stuck behind the body.
        const next = await call('/users/me');
        expect(next.status).toBe(401);
        await next.arrayBuffer();
      }
    });
  }

  it('answers 503 problem+json with Retry-After while a service is down, and serves it again once it is back', async () => {
    await stopService('notification-service');
    let restarted = false;
    try {
      const response = await call('/notifications/messages', { headers: { authorization: 'Bearer x' } });
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('retry-after')).toBe('1');
      expect(await response.json()).toMatchObject({ status: 503, title: 'Service unavailable', type: 'https://arch.homework/problems/service-unavailable' });
      // A body the gateway could not deliver is no reason to hang either.
      const posted = await call('/notifications/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bigBody(1_000_000) });
      expect(posted.status).toBe(503);
      await posted.arrayBuffer();
      await startReadyService('notification-service');
      restarted = true;
      const back = await call('/notifications/messages');
      expect(back.status).toBe(401);
      await back.arrayBuffer();
    } finally {
      if (!restarted) await startReadyService('notification-service');
    }
  });

  it('logs one pino line per request, with the request id the service logs too', async () => {
    const requestId = randomUUID();
    const response = await call('/users/me', { headers: { 'x-request-id': requestId } });
    expect(response.status).toBe(401);
    expect(response.headers.get('x-request-id')).toBe(requestId);
    const file = join(stateDir, 'logs', 'gateway.log');
    const lines = await waitFor(`the gateway's log line of request ${requestId}`, async () => {
      if (!existsSync(file)) return undefined;
      const mine = readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.includes(requestId))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      return mine.length > 0 ? mine : undefined;
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ service: 'gateway', reqId: requestId, msg: 'request completed', req: { method: 'GET', url: '/users/me' }, res: { statusCode: 401 } });
    // The gateway passed the id on: the service's access-log line carries the same one.
    await waitFor(`user-service's log line of request ${requestId}`, async () =>
      readFileSync(join(stateDir, 'logs', 'user-service.log'), 'utf8').includes(requestId) ? true : undefined,
    );
  });
});
