import type { RunObserver } from "../runs/service.js";
import { startRunSpans } from "./run-spans.js";

/**
 * The run service's tracing observer: a `kaygraph.run` span per run under the active context (the HTTP
 * request's span, a task's stored trace context), with a `kaygraph.node` span per node step. A no-op until an
 * OpenTelemetry SDK is registered (by `OTEL_*` variables, or by the application itself).
 *
 * @example
 * createRunService({ config, registry, observers: [meterObserver(metrics), traceObserver] });
 */
export const traceObserver: RunObserver = {
  begin(run) {
    const spans = startRunSpans({ graph: run.graph, transport: run.transport, requestId: run.requestId, runId: run.runId, taskId: run.taskId, execution: run.execution });
    if (spans === undefined) return undefined;
    return {
      onEvent: (event) => spans.onEvent(event),
      end: (outcome, error) => spans.end(outcome, error && { code: error.code, message: error.message, node: error.node }),
    };
  },
};
