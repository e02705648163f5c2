/**
 * W3C trace context in and out of kaygraph: what a background task stores of the request that submitted it,
 * and the context its run continues in, on whichever process claims it.
 */
import { context, propagation, ROOT_CONTEXT, type Context } from "@opentelemetry/api";

/** The W3C headers of a trace context (`traceparent`, and `tracestate` when there is one). */
export type TraceCarrier = Record<string, string>;

/**
 * The active trace context as W3C headers, or undefined when there is none to carry (no propagator
 * registered, or no span active): what a submitted task stores so its run joins the submitting trace.
 *
 * @example
 * await store.submit({ graph, version, input, traceContext: currentTraceCarrier() });
 */
export function currentTraceCarrier(): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return typeof carrier["traceparent"] === "string" ? carrier : undefined;
}

/**
 * The context a stored carrier describes (the root context when it is missing or unreadable), to run a task's
 * attempt in: `context.with(contextOfCarrier(task.trace_context), () => …)`.
 *
 * @example
 * const parent = contextOfCarrier({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
 */
export function contextOfCarrier(carrier: TraceCarrier | null | undefined): Context {
  if (!carrier || typeof carrier["traceparent"] !== "string") return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}
