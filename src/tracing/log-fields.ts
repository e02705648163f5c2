/** `trace_id` and `span_id` for log lines, from the active span or a request's span. */
import { context, isSpanContextValid, trace, type Span } from "@opentelemetry/api";

const requestSpans = new WeakMap<object, Span>();

// A new object every time: pino merges each line's fields into what its mixin returns.
function fieldsOf(span: Span | undefined): Record<string, string> {
  if (span === undefined) return {};
  const ids = span.spanContext();
  return isSpanContextValid(ids) ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
}

/**
 * The pino mixin of every kaygraph logger: the active span's ids, or nothing (one context look-up per line
 * when nobody traces).
 *
 * @example
 * pino({ mixin: activeTraceFields });
 */
export function activeTraceFields(): Record<string, string> {
  return fieldsOf(trace.getSpan(context.active()));
}

/** Remembers the span of a request, for its log line written after the span's context has been left. */
export function setRequestSpan(req: object, span: Span): void {
  requestSpans.set(req, span);
}

/**
 * The ids of a request's span (see {@link setRequestSpan}), or nothing.
 *
 * @example
 * logger.info({ ...requestTraceFields(req), status }, "GET / 200");
 */
export function requestTraceFields(req: object): Record<string, string> {
  return fieldsOf(requestSpans.get(req));
}
