/**
 * A `kaygraph.run` span per run and a `kaygraph.node` span per node step, built from the run's events. The
 * events are the only input, so node spans come out right wherever the run executed (this thread, a worker
 * thread whose events arrive as messages, another process's task) and cost nothing when nobody traces.
 */
import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from "@opentelemetry/api";
import type { RunEvent } from "../graph/events.js";
import { packageInfo } from "../package-info.js";

/** What a run span describes (the run service's RunInfo has these fields). */
export interface TracedRun {
  readonly graph: { readonly name: string; readonly version: number };
  readonly transport: string;
  readonly requestId: string;
  readonly runId: string;
  readonly taskId: string | undefined;
  readonly execution?: string;
}

/** Watches one traced run: feed it every event, then the outcome. */
export interface RunSpans {
  onEvent(event: RunEvent): void;
  /** `completed`, `interrupted`, or the lower-case error code; `error` for failures. */
  end(outcome: string, error?: { code?: string; message: string; node?: string | undefined }): void;
}

let cachedTracer: ReturnType<typeof trace.getTracer> | undefined;
// The global API's proxy tracer: it follows whichever provider is registered, now or later.
const tracer = () => (cachedTracer ??= trace.getTracer("kaygraph", packageInfo().version));

/**
 * Starts the spans of one run under `parent` (default: the active context — the HTTP request's span, or a
 * task's stored trace context). Returns undefined when the span would not be recorded (no SDK, or sampled
 * out), so an untraced run pays for one no-op span and nothing per event.
 *
 * @example
 * const spans = startRunSpans({ graph, transport: "sync", requestId, runId: requestId, taskId: undefined });
 * spans?.onEvent(event); spans?.end("completed");
 */
export function startRunSpans(run: TracedRun, parent: Context = context.active()): RunSpans | undefined {
  const attributes: Attributes = {
    "kaygraph.graph": run.graph.name,
    "kaygraph.graph.version": run.graph.version,
    "kaygraph.request_id": run.requestId,
    "kaygraph.run_id": run.runId,
    "kaygraph.transport": run.transport,
  };
  if (run.taskId !== undefined) attributes["kaygraph.task_id"] = run.taskId;
  if (run.execution !== undefined) attributes["kaygraph.execution"] = run.execution;
  const span = tracer().startSpan("kaygraph.run", { kind: SpanKind.INTERNAL, attributes }, parent);
  if (!span.isRecording()) {
    span.end();
    return undefined;
  }
  return new NodeSpans(span, trace.setSpan(parent, span));
}

/** The open node spans of one run, matched to their end by node id (innermost first). */
class NodeSpans implements RunSpans {
  private readonly open: Array<{ node: string; span: Span }> = [];

  constructor(
    private readonly run: Span,
    private readonly runContext: Context,
  ) {}

  onEvent(event: RunEvent): void {
    switch (event.type) {
      case "node_start": {
        // Every node step is a child of the run: events do not say which step contains which (parallel
        // batches interleave), and a wrong nesting would be worse than a flat one.
        const span = tracer().startSpan("kaygraph.node", { startTime: event.ts, attributes: { "kaygraph.node": event.node } }, this.runContext);
        this.open.push({ node: event.node, span });
        break;
      }
      case "node_end": {
        const at = this.open.findLastIndex((o) => o.node === event.node);
        if (at < 0) break;
        const { span } = this.open.splice(at, 1)[0]!;
        span.setAttributes({ "kaygraph.node.action": event.action, "kaygraph.node.duration_ms": event.duration_ms, "kaygraph.node.retries": event.retries ?? 0 });
        span.end(event.ts);
        break;
      }
      case "interrupt":
        this.run.setAttribute("kaygraph.interrupt.node", event.node);
        break;
      default:
        break;
    }
  }

  end(outcome: string, error?: { code?: string; message: string; node?: string | undefined }): void {
    this.run.setAttribute("kaygraph.outcome", outcome);
    // Steps still open ended with the run: the error went through each of them (innermost last opened).
    for (let i = this.open.length - 1; i >= 0; i--) {
      const { node, span } = this.open[i]!;
      if (error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
        if (error.code) span.setAttribute("error.type", error.code);
        if (i === this.open.length - 1 || node === error.node) span.recordException({ name: error.code ?? "Error", message: error.message });
      } else {
        span.setAttribute("kaygraph.node.action", outcome);
      }
      span.end();
    }
    this.open.length = 0;
    if (error) {
      this.run.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      if (error.code) this.run.setAttribute("error.type", error.code);
      if (error.node) this.run.setAttribute("kaygraph.error.node", error.node);
    }
    this.run.end();
  }
}
