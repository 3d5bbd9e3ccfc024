/**
 * The OpenAPI document says what the server does: error responses under the media type the error
 * handler sends, parameters with a default optional, and where the API is served.
 */
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@eventflow/platform';
import { createHttpServer, paginationQuery, problemResponses, type HttpServer } from '../src/index.js';
import { apiServers } from '../src/openapi.js';

let app: HttpServer;
let document: {
  servers: unknown;
  components: { schemas: Record<string, unknown> };
  paths: Record<string, Record<string, { parameters?: Array<{ name: string; required: boolean }>; responses: Record<string, { content: Record<string, unknown> }> }>>;
};

beforeAll(async () => {
  app = await createHttpServer({
    service: 'test',
    version: '1.0.0',
    description: 'test',
    logger: createLogger('http-test', 'silent'),
    bodyLimit: 1_024,
    prefix: '/things',
    readiness: [],
  });
  app.get('/things', { schema: { querystring: paginationQuery, response: { 200: Type.Array(Type.String()), ...problemResponses(400, 401) } } }, async (request) => {
    const { limit, offset } = request.query;
    return [String(limit), String(offset)];
  });
  await app.ready();
  document = app.swagger() as unknown as typeof document;
});
afterAll(async () => {
  await app.close();
});

describe('the OpenAPI document', () => {
  it('documents error responses as application/problem+json with the shared Problem schema', () => {
    const responses = document.paths['/things']?.['get']?.responses ?? {};
    for (const status of ['400', '401']) {
      expect(Object.keys(responses[status]?.content ?? {})).toEqual(['application/problem+json']);
      expect(responses[status]?.content['application/problem+json']).toEqual({ schema: { $ref: '#/components/schemas/Problem' } });
    }
    expect(document.components.schemas['Problem']).toMatchObject({ required: ['type', 'title', 'status', 'detail'] });
  });

  it('marks parameters with a default optional, and the server fills the default in', async () => {
    const parameters = document.paths['/things']?.['get']?.parameters ?? [];
    expect(parameters.map((p) => [p.name, p.required])).toEqual([
      ['limit', false],
      ['offset', false],
    ]);
    const response = await app.inject({ method: 'GET', url: '/things' });
    expect(response.json()).toEqual(['20', '0']);
  });

  it('sends a problem as application/problem+json, matching the document', async () => {
    const response = await app.inject({ method: 'GET', url: '/things?limit=0' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 400, title: 'Invalid request' });
  });

  it('names the servers: the chart ingress and npm start', () => {
    expect(document.servers).toEqual(apiServers);
    expect(apiServers.map((s) => s.url)).toEqual(['http://arch.homework', 'http://127.0.0.1:8080']);
  });
});
