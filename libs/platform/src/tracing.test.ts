import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { SpanKind, inSpan, startTracing } from './tracing.js';

/** A stand-in OTLP/HTTP collector on a local port: keeps the path and body of every request. */
async function collector() {
  const received: Array<{ path: string; body: Buffer }> = [];
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: Buffer.concat(chunks) });
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { received, url: `http://127.0.0.1:${port}/v1/traces`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('startTracing with OTEL_TRACES_EXPORTER=otlp', () => {
  const saved = process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
  afterAll(() => {
    if (saved === undefined) delete process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];
    else process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] = saved;
  });

  it('exports the spans of the continued trace to the configured endpoint', async () => {
    const otlp = await collector();
    try {
      // The exporter reads its endpoint from the standard variable itself.
      process.env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] = otlp.url;
      const tracing = await startTracing('exporting-service', { OTEL_TRACES_EXPORTER: 'otlp' });
      const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
      await inSpan('work', SpanKind.INTERNAL, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, {}, async () => undefined);
      // Shutting down flushes the batch processor.
      await tracing.shutdown();

      expect(otlp.received.map((r) => r.path)).toContain('/v1/traces');
      // OTLP/HTTP with JSON bodies: ids as hex strings.
      const body = Buffer.concat(otlp.received.map((r) => r.body)).toString('utf8');
      expect(body).toContain(traceId);
      expect(body).toContain('exporting-service');
    } finally {
      await otlp.close();
    }
  });
});
