/**
 * The active OpenTelemetry span as a W3C traceparent, when the service uses
 * `@opentelemetry/api` (an optional peer dependency: it is looked up on first use, never
 * imported, so services without it pay nothing and need nothing). The API keeps its state in
 * a process-wide registry, so the copy found here sees the spans of the service's own copy.
 */

/** The part of `@opentelemetry/api` used here (present since 1.0). */
interface OtelApi {
  context: { active(): unknown };
  trace: { getSpan(ctx: unknown): { spanContext(): SpanContext } | undefined };
  isSpanContextValid(ctx: SpanContext): boolean;
}
interface SpanContext { traceId: string; spanId: string; traceFlags: number }

let api: OtelApi | null | undefined;

function otelApi(): OtelApi | null {
  if (api === undefined) {
    try {
      api = require('@opentelemetry/api') as OtelApi;
    } catch {
      api = null; // not installed: W3C traceparent from withTraceparent() only
    }
  }
  return api;
}

export function otelTraceparent(): string | undefined {
  const otel = otelApi();
  if (!otel) return undefined;
  const ctx = otel.trace.getSpan(otel.context.active())?.spanContext();
  if (!ctx || !otel.isSpanContextValid(ctx)) return undefined;
  return `00-${ctx.traceId}-${ctx.spanId}-${(ctx.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
