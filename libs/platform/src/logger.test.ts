import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { SpanKind, inSpan, startTracing } from './tracing.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('names the service and redacts passwords, tokens and authorization headers', () => {
    const { lines, stream } = capture();
    const logger = createLogger('user-service', 'info', {}, stream);
    logger.info(
      { password: 'hunter2', body: { password: 'hunter2', accessToken: 'eyJ...' }, req: { headers: { authorization: 'Bearer eyJ...' } } },
      'login',
    );
    expect(lines[0]).toMatchObject({ service: 'user-service', msg: 'login', password: '[redacted]' });
    expect(JSON.stringify(lines[0])).not.toContain('hunter2');
    expect(JSON.stringify(lines[0])).not.toContain('eyJ');
  });

  it('writes the active trace id on lines logged inside a span', async () => {
    await startTracing('test');
    const { lines, stream } = capture();
    const logger = createLogger('svc', 'info', {}, stream);
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    await inSpan('work', SpanKind.INTERNAL, { traceparent: `00-${traceId}-b7ad6b7169203331-01` }, {}, async () => logger.info('inside'));
    logger.info('outside');
    expect(lines[0]).toMatchObject({ msg: 'inside', traceId });
    expect(lines[1]).not.toHaveProperty('traceId');
  });
});
