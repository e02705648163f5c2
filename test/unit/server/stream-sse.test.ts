import { describe, expect, it } from "vitest";
import { importGeneratedClient } from "../codegen/support.js";
import { aborted, metricValue, sseEvents, sseFrames, startTestServer, streamRegistry, until, type Msg } from "./ws-support.js";

const json = { "content-type": "application/json" };

function stream(base: string, path: string, body: unknown, init: RequestInit = {}) {
  return fetch(`${base}${path}`, { method: "POST", headers: { ...json, accept: "text/event-stream" }, body: JSON.stringify(body), ...init });
}

async function submit(base: string, input: unknown): Promise<string> {
  const res = await fetch(`${base}/api/v1/tokens/async`, { method: "POST", headers: json, body: JSON.stringify(input) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { task_id: string }).task_id;
}

const shape = (events: Msg[]) => events.map((e) => [e.seq, e.type, e.node ?? null, e.type === "data" ? (e.chunk as { i: number }).i : null]);

describe("POST /api/v{V}/{G}/stream", () => {
  it("streams 100 chunks in order, one frame per event (event = type, id = seq), then the result, and ends", async () => {
    const { base } = await startTestServer();
    const res = await stream(base, "/api/v1/tokens/stream", { n: 100 }, { headers: { ...json, "x-request-id": "sse-1" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("x-request-id")).toBe("sse-1");
    const events = await sseEvents(res);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]).toMatchObject({ type: "start", run_id: "sse-1" });
    const chunks = events.filter((e) => e.type === "data").map((e) => (e.chunk as { i: number }).i);
    expect(chunks).toEqual([...Array(100).keys()]);
    expect(events.at(-1)).toMatchObject({ type: "result", result: { count: 100, version: 1 } });
    expect(events.map((e) => e.type)).toEqual(["start", "node_start", ...Array(100).fill("data"), "node_end", "result"]);
  });

  it("invalid input is a 422 JSON answer with the sync route's shape, before any stream byte", async () => {
    const { base } = await startTestServer();
    const res = await stream(base, "/api/v1/tokens/stream", { n: "many" });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await res.json()) as { error_code: string; request_id: string; details: unknown[] };
    const sync = await fetch(`${base}/api/v1/tokens`, { method: "POST", headers: json, body: JSON.stringify({ n: "many" }) });
    const syncBody = (await sync.json()) as { error_code: string; details: unknown[] };
    expect(body.error_code).toBe("VALIDATION_ERROR");
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
    expect(body.details).toEqual(syncBody.details);
    const broken = await fetch(`${base}/api/v1/tokens/stream`, { method: "POST", headers: json, body: "{" });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error_code: string }).error_code).toBe("INVALID_JSON");
    const get = await fetch(`${base}/api/v1/tokens/stream`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });

  it("the graph's timeout ends the stream with a terminal TIMEOUT error event", async () => {
    const { base } = await startTestServer();
    const events = await sseEvents(await stream(base, "/api/v1/short/stream", { waitMs: 5_000 }));
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "TIMEOUT", node: "tokens" });
    expect(events.filter((e) => e.type === "error" || e.type === "result")).toHaveLength(1);
  });

  it("a failing graph ends with GRAPH_ERROR whose message stays in the log (outside debug)", async () => {
    const { base } = await startTestServer();
    const events = await sseEvents(await stream(base, "/api/v1/tokens/stream", { n: 1, fail: true }));
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "GRAPH_ERROR", node: "tokens" });
    expect(JSON.stringify(events)).not.toContain("secret internal detail");
  });

  it("sends comment heartbeats while idle", async () => {
    const { base } = await startTestServer({ ws: { heartbeatMs: 60 } });
    const res = await stream(base, "/api/v1/tokens/stream", { waitMs: 300 });
    const comments: string[] = [];
    let last: Msg | undefined;
    for await (const frame of sseFrames(res)) {
      if (frame.comment !== undefined) comments.push(frame.comment);
      if (frame.data) last = JSON.parse(frame.data) as Msg;
    }
    expect(comments.length).toBeGreaterThanOrEqual(2);
    expect(last?.type).toBe("result");
  });

  it("a client that disconnects aborts the run (its signal fires)", async () => {
    const server = await startTestServer();
    const controller = new AbortController();
    const res = await stream(server.base, "/api/v1/tokens/stream", { tag: "gone-sse", waitMs: 10_000 }, { signal: controller.signal });
    await sseEvents(res, (e) => e.type === "node_start");
    await until(async () => (await metricValue(server, "kaygraph_graph_runs_in_progress", { kind: "stream" })) === 1, "the stream run to be counted");
    controller.abort();
    await until(() => aborted.has("gone-sse"), "the run's signal to fire");
    await until(async () => (await metricValue(server, "kaygraph_graph_runs_in_progress", { kind: "stream" })) === 0, "the run to end");
  });
});

describe("GET /tasks/{id}/events: resumable", () => {
  it("Last-Event-ID and ?after= resume after a dropped connection without gap or duplicate", async () => {
    const { base } = await startTestServer();
    const id = await submit(base, { n: 40, yieldEvery: 1 });
    const controller = new AbortController();
    const first = await sseEvents(await fetch(`${base}/tasks/${id}/events`, { signal: controller.signal }), (e) => e.seq === 10);
    controller.abort();
    const byHeader = await sseEvents(await fetch(`${base}/tasks/${id}/events`, { headers: { "last-event-id": "10" } }));
    expect([...first, ...byHeader].map((e) => e.seq)).toEqual([...Array(first.length + byHeader.length).keys()].map((i) => i + 1));
    expect(byHeader.at(-1)).toMatchObject({ type: "result", result: { count: 40 } });
    const byQuery = await sseEvents(await fetch(`${base}/tasks/${id}/events?after=25`));
    expect(byQuery.map((e) => e.seq)).toEqual(byHeader.filter((e) => e.seq! > 25).map((e) => e.seq));
    const all = await sseEvents(await fetch(`${base}/tasks/${id}/events`));
    expect(shape(all)).toEqual(shape([...first, ...byHeader]));
  });

  it("a resume after the terminal event answers 204 (an EventSource stops reconnecting); a bad Last-Event-ID is 422", async () => {
    const { base } = await startTestServer();
    const id = await submit(base, { n: 2 });
    const all = await sseEvents(await fetch(`${base}/tasks/${id}/events`));
    const last = all.at(-1)!.seq!;
    expect((await fetch(`${base}/tasks/${id}/events`, { headers: { "last-event-id": String(last) } })).status).toBe(204);
    expect((await fetch(`${base}/tasks/${id}/events?after=x`)).status).toBe(422);
  });
});

describe("the generated client against these routes", () => {
  it("stream() yields typed events to the result; subscribe(taskId, { after }) resumes a task's events", async () => {
    const { base } = await startTestServer();
    const { createClient } = await importGeneratedClient(streamRegistry().list());
    const client = createClient({ baseUrl: base });
    const events: Msg[] = [];
    for await (const event of client.tokens.v2.stream({ n: 5 }) as AsyncIterable<Msg>) events.push(event);
    expect(events.map((e) => e.type)).toEqual(["start", "node_start", "data", "data", "data", "data", "data", "node_end", "result"]);
    expect(events.at(-1)).toMatchObject({ result: { count: 5, version: 2 } });
    await expect(async () => {
      for await (const _ of client.tokens.v1.stream({ n: -1 }) as AsyncIterable<Msg>) void _;
    }).rejects.toMatchObject({ status: 422, error_code: "VALIDATION_ERROR" });

    const id = await submit(base, { n: 20, yieldEvery: 1 });
    const whole: Msg[] = [];
    for await (const event of client.subscribe(id) as AsyncIterable<Msg>) whole.push(event);
    const tail: Msg[] = [];
    for await (const event of client.subscribe(id, { after: 7 }) as AsyncIterable<Msg>) tail.push(event);
    expect(tail).toEqual(whole.slice(7));
    expect(whole.at(-1)).toMatchObject({ type: "result", result: { count: 20 } });
  });
});
