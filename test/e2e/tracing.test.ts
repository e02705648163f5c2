import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { startOtlpReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.js";
import { tmpProject } from "../helpers/tmp-project.js";

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const SERVE = ["serve", "--port", "0", "--host", "127.0.0.1"];
const otel = (endpoint: string, protocol: string) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: protocol, OTEL_SERVICE_NAME: "tracing-e2e", OTEL_BSP_SCHEDULE_DELAY: "50" });

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

describe("OpenTelemetry traces", () => {
  it("http/json: a traced request's run and node spans join the caller's trace, with graph, node and outcome attributes; log lines carry the ids; a task run by another process joins its submitter's trace", async () => {
    const receiver = await startOtlpReceiver();
    const cwd = await tmpProject(basicProject());
    // An API-only server: its tasks run in a separate `kaygraph worker` process.
    const server = startCli(SERVE, { cwd, env: { ...otel(receiver.endpoint, "http/json"), KAYGRAPH_TASKS_CONCURRENCY: "0" } });
    const worker = startCli(["worker", "--concurrency", "1"], { cwd, env: otel(receiver.endpoint, "http/json") });
    const base = `http://127.0.0.1:${await server.ready()}`;

    const traceId = hex(16);
    const callerSpan = hex(8);
    const res = await post(base, "/api/v2/loop", { times: 2 }, { traceparent: `00-${traceId}-${callerSpan}-01`, "x-request-id": "traced-1" });
    expect(res.status).toBe(200);
    const spans = await receiver.waitForTrace(traceId, (s) => named(s, "kaygraph.run").length === 1 && named(s, "kaygraph.node").length === 3 && s.some((x) => x.kind === 2));
    const request = spans.find((s) => s.kind === 2)!; // SERVER
    const run = named(spans, "kaygraph.run")[0]!;
    expect(request).toMatchObject({ parentSpanId: callerSpan, name: "POST /api/v2/loop", attributes: { "http.response.status_code": 200 }, service: "tracing-e2e" });
    expect(run).toMatchObject({ parentSpanId: request.spanId, attributes: { "kaygraph.graph": "loop", "kaygraph.graph.version": 2, "kaygraph.request_id": "traced-1", "kaygraph.outcome": "completed", "kaygraph.transport": "sync" } });
    const nodes = named(spans, "kaygraph.node");
    expect(nodes.every((n) => n.parentSpanId === run.spanId)).toBe(true);
    expect(nodes.map((n) => [n.attributes["kaygraph.node"], n.attributes["kaygraph.node.action"]]).sort()).toEqual([
      ["check", "again"],
      ["check", "stop"],
      ["finish", "done"],
    ]);
    await server.waitFor(`"trace_id":"${traceId}"`);

    await worker.waitFor("kaygraph: worker ready");
    const submitted = hex(16);
    const accepted = await post(base, "/api/v2/loop/async", { times: 1 }, { traceparent: `00-${submitted}-${hex(8)}-01` });
    expect(accepted.status).toBe(202);
    const { task_id } = (await accepted.json()) as { task_id: string };
    const task = await receiver.waitForTrace(submitted, (s) => named(s, "kaygraph.run").length === 1 && named(s, "kaygraph.node").length === 2 && s.some((x) => x.kind === 2));
    const submit = task.find((s) => s.kind === 2)!;
    expect(named(task, "kaygraph.run")[0]).toMatchObject({ parentSpanId: submit.spanId, attributes: { "kaygraph.transport": "task", "kaygraph.task_id": task_id, "kaygraph.outcome": "completed" } });

    // A failing streamed run: the run span and the node span are errors, in a new trace of their own.
    const failing = hex(16);
    const stream = await post(base, "/api/v1/echo/stream", { text: "x", fail: true }, { traceparent: `00-${failing}-${hex(8)}-01` });
    expect(await stream.text()).toContain("event: error");
    const failed = await receiver.waitForTrace(failing, (s) => named(s, "kaygraph.run").length === 1 && named(s, "kaygraph.node").length === 1);
    expect(named(failed, "kaygraph.run")[0]).toMatchObject({ status: { code: 2 }, attributes: { "kaygraph.outcome": "graph_error", "kaygraph.transport": "stream", "error.type": "GRAPH_ERROR" } });
    expect(named(failed, "kaygraph.node")[0]).toMatchObject({ status: { code: 2, message: "echo was told to fail" }, attributes: { "kaygraph.node": "echo" } });
  });

  it("http/protobuf arrives as protobuf carrying the trace id; OTEL_TRACES_EXPORTER=none sends nothing", async () => {
    const receiver = await startOtlpReceiver();
    const silent = await startOtlpReceiver();
    const cwd = await tmpProject(basicProject());
    const proto = startCli(SERVE, { cwd, env: otel(receiver.endpoint, "http/protobuf") });
    const off = startCli(SERVE, { cwd, env: { ...otel(silent.endpoint, "http/json"), OTEL_TRACES_EXPORTER: "none" } });
    const [protoPort, offPort] = await Promise.all([proto.ready(), off.ready()]);
    const traceId = hex(16);
    const traceparent = `00-${traceId}-${hex(8)}-01`;
    expect((await post(`http://127.0.0.1:${protoPort}`, "/api/v1/echo", { text: "p" }, { traceparent })).status).toBe(200);
    expect((await post(`http://127.0.0.1:${offPort}`, "/api/v1/echo", { text: "p" }, { traceparent })).status).toBe(200);
    const deadline = Date.now() + 20_000;
    while (!receiver.posts.some((p) => p.body.includes(Buffer.from(traceId, "hex")))) {
      if (Date.now() > deadline) throw new Error(`no protobuf export with trace ${traceId}: ${receiver.posts.length} posts`);
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(receiver.posts.every((p) => p.contentType === "application/x-protobuf")).toBe(true);
    // A graceful stop flushes whatever a server would still export: none of it may reach the receiver.
    await off.stop();
    expect(silent.posts).toEqual([]);
  });

  it("kaygraph run: the one-shot run is traced under TRACEPARENT and flushed before the command exits", async () => {
    const receiver = await startOtlpReceiver();
    const cwd = await tmpProject(basicProject());
    const traceId = hex(16);
    const parent = hex(8);
    const r = await runCli(["run", "loop@2", "--input", '{"times":1}'], { cwd, env: { ...otel(receiver.endpoint, "http/json"), TRACEPARENT: `00-${traceId}-${parent}-01` } });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ n: 1 });
    // Already exported when the command returned: no waiting.
    const spans = receiver.spans.filter((s) => s.traceId === traceId);
    expect(named(spans, "kaygraph.run")).toMatchObject([{ parentSpanId: parent, attributes: { "kaygraph.graph": "loop", "kaygraph.transport": "cli", "kaygraph.outcome": "completed" } }]);
    expect(named(spans, "kaygraph.node").map((s) => s.attributes["kaygraph.node"])).toEqual(["check", "finish"]);
  });
});
