import { context, propagation, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contextOfCarrier, currentTraceCarrier } from "../../../src/tracing/propagation.js";
import { startRunSpans } from "../../../src/tracing/run-spans.js";
import { tracingSettings } from "../../../src/tracing/settings.js";

describe("tracingSettings: export only when the OTEL_* variables say so", () => {
  it.each([
    [{}, { export: false }],
    [{ OTEL_SERVICE_NAME: "svc" }, { export: false }],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, { export: true, protocol: "http/protobuf" }],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://c:4318/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }, { export: true, protocol: "http/json" }],
    [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }, { export: true, protocol: "http/json" }],
    [{ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, { export: false }],
    [{ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }, { export: false }],
  ])("%j → %j", (env, expected) => {
    expect(tracingSettings(env)).toEqual(expected);
  });

  it("unsupported exporters and protocols are a warning, never a crash", () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "console" })).toEqual({ export: false, warning: expect.stringContaining("console") });
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "otlp,zipkin" })).toEqual({ export: true, protocol: "http/protobuf", warning: expect.stringContaining("zipkin") });
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" })).toEqual({ export: false, warning: expect.stringContaining("grpc") });
  });
});

describe("without an SDK", () => {
  it("no span is recorded and the run costs one no-op span", () => {
    expect(startRunSpans({ graph: { name: "g", version: 1 }, transport: "sync", requestId: "r", runId: "r", taskId: undefined })).toBeUndefined();
  });
});

describe("run and node spans from run events", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  // As kaygraph's own SDK does: global provider, W3C propagator, AsyncLocalStorage context manager.
  beforeAll(() => provider.register());
  afterAll(async () => {
    trace.disable();
    propagation.disable();
    context.disable();
    await provider.shutdown();
  });
  const run = { graph: { name: "g", version: 3 }, transport: "task", requestId: "rq", runId: "t1", taskId: "t1", execution: "thread" };

  it("a run under a stored carrier: run span child of it, one node span per step (retries, action), ended at the events' times", () => {
    exporter.reset();
    const parent = contextOfCarrier({ traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" });
    const spans = startRunSpans(run, parent)!;
    const t0 = Date.UTC(2026, 0, 1); // events carry epoch milliseconds
    spans.onEvent({ type: "start", seq: 1, ts: t0, run_id: "t1" });
    spans.onEvent({ type: "node_start", seq: 2, ts: t0, node: "a" });
    spans.onEvent({ type: "node_end", seq: 3, ts: t0 + 10, node: "a", action: "next", duration_ms: 10, retries: 2 });
    spans.onEvent({ type: "node_start", seq: 4, ts: t0 + 10, node: "b" });
    spans.onEvent({ type: "node_end", seq: 5, ts: t0 + 15, node: "b", action: "default", duration_ms: 5 });
    spans.end("completed");
    const [a, b, top] = exporter.getFinishedSpans();
    expect(top!.name).toBe("kaygraph.run");
    expect(top!.spanContext().traceId).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(top!.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(top!.attributes).toMatchObject({ "kaygraph.graph": "g", "kaygraph.graph.version": 3, "kaygraph.task_id": "t1", "kaygraph.request_id": "rq", "kaygraph.outcome": "completed", "kaygraph.execution": "thread" });
    expect([a!.name, a!.parentSpanContext?.spanId, a!.attributes]).toEqual(["kaygraph.node", top!.spanContext().spanId, { "kaygraph.node": "a", "kaygraph.node.action": "next", "kaygraph.node.duration_ms": 10, "kaygraph.node.retries": 2 }]);
    expect(a!.startTime).toEqual([Date.UTC(2026, 0, 1) / 1000, 0]);
    expect(b!.endTime).toEqual([Date.UTC(2026, 0, 1) / 1000, 15_000_000]);
  });

  it("a failure ends the open steps as errors, the exception on the failing one", () => {
    exporter.reset();
    const spans = startRunSpans(run, context.active())!;
    spans.onEvent({ type: "node_start", seq: 1, ts: 1, node: "sub" });
    spans.onEvent({ type: "node_start", seq: 2, ts: 2, node: "inner" });
    spans.end("graph_error", { code: "GRAPH_ERROR", message: "boom", node: "inner" });
    const [inner, sub, top] = exporter.getFinishedSpans();
    expect([inner!.attributes["kaygraph.node"], inner!.status, inner!.events.map((e) => e.name)]).toEqual(["inner", { code: 2, message: "boom" }, ["exception"]]);
    expect([sub!.attributes["kaygraph.node"], sub!.status.code, sub!.events]).toEqual(["sub", 2, []]);
    expect(top!.attributes).toMatchObject({ "kaygraph.outcome": "graph_error", "error.type": "GRAPH_ERROR", "kaygraph.error.node": "inner" });
  });

  it("the active context travels as a W3C carrier; a missing or broken one is the root", () => {
    const span = trace.getTracer("t").startSpan("request");
    const carrier = context.with(trace.setSpan(context.active(), span), currentTraceCarrier);
    span.end();
    expect(carrier).toEqual({ traceparent: `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01` });
    expect(currentTraceCarrier()).toBeUndefined();
    expect(trace.getSpanContext(contextOfCarrier(null))).toBeUndefined();
    expect(trace.getSpanContext(contextOfCarrier({ traceparent: "garbage" }))).toBeUndefined();
  });
});
