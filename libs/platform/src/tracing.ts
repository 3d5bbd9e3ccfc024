import { SpanStatusCode, context, propagation, trace, type Attributes, type SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';

export { SpanKind } from '@opentelemetry/api';

/**
 * OpenTelemetry tracing with W3C trace context. One order is one trace: the HTTP request's span
 * is stored with each outbox row as `traceparent`, travels in the Kafka headers, and every
 * consumer continues it. Trace ids are always created (logs carry them); spans are exported only
 * when the standard variable OTEL_TRACES_EXPORTER=otlp is set (the exporter then reads
 * OTEL_EXPORTER_OTLP_ENDPOINT and friends itself). Off by default, and then the OTLP exporter (its
 * HTTP and protobuf code) is not even loaded.
 */
export async function startTracing(service: string, env: Record<string, string | undefined> = process.env): Promise<{ shutdown: () => Promise<void> }> {
  const exporter = env['OTEL_TRACES_EXPORTER'] ?? 'none';
  const spanProcessors: SpanProcessor[] = [];
  if (exporter === 'otlp') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    spanProcessors.push(new BatchSpanProcessor({ exporter: new OTLPTraceExporter() }));
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env['OTEL_SERVICE_NAME'] ?? service }),
    spanProcessors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}

const tracer = () => trace.getTracer('eventflow');

/** The active span as a `traceparent` header value, to store with an outgoing event. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'];
}

/** Ids of the active span, for log lines; empty when there is none. */
export function activeTraceIds(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}

/** Runs fn in a new active span whose parent comes from W3C headers (HTTP or Kafka), if any. */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  parentHeaders: Record<string, string | string[] | undefined>,
  attributes: Attributes,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), parentHeaders);
  return tracer().startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await fn();
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Starts a span without making it active (for HTTP, where Fastify's hooks bracket the request). */
export function startSpan(name: string, kind: SpanKind, parentHeaders: Record<string, string | string[] | undefined>) {
  const parent = propagation.extract(context.active(), parentHeaders);
  const span = tracer().startSpan(name, { kind }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

export { context as otelContext, SpanStatusCode };
