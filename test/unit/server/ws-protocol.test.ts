import { describe, expect, it } from "vitest";
import { aborted, metricValue, openSocket, startTestServer, until, type Msg } from "./ws-support.js";

const json = { "content-type": "application/json" };

async function submit(base: string, input: unknown): Promise<string> {
  const res = await fetch(`${base}/api/v1/tokens/async`, { method: "POST", headers: json, body: JSON.stringify(input) });
  return ((await res.json()) as { task_id: string }).task_id;
}

const seqs = (events: Msg[]) => events.map((e) => e.seq);
const isTerminal = (m: Msg) => m.type === "result" || m.type === "error";

describe("WS /ws/{client_id}: runs", () => {
  it("streams 100 chunks of a run in order, each message carrying the client's id, then the result", async () => {
    const { wsBase } = await startTestServer();
    const socket = await openSocket(`${wsBase}/ws/client-1`);
    socket.send({ type: "run", id: "m1", graph: "tokens", input: { n: 100 } });
    const events = await socket.operation("m1");
    expect(events.every((e) => e.id === "m1")).toBe(true);
    expect(seqs(events)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "data").map((e) => (e.chunk as { i: number }).i)).toEqual([...Array(100).keys()]);
    // `version` left out: the highest (v2).
    expect(events.at(-1)).toMatchObject({ type: "result", id: "m1", result: { count: 100, version: 2 } });
  });

  it("runs two graphs at once on one socket; each sequence is whole and ordered", async () => {
    const { wsBase } = await startTestServer();
    const socket = await openSocket(`${wsBase}/ws/client-2`);
    socket.send({ type: "run", id: "a", graph: "tokens", version: 1, input: { n: 30, yieldEvery: 1 } });
    socket.send({ type: "run", id: "b", graph: "tokens", version: 2, input: { n: 30, yieldEvery: 1 } });
    const [a, b] = await Promise.all([socket.operation("a"), socket.operation("b")]);
    for (const events of [a, b]) {
      expect(seqs(events)).toEqual(events.map((_, i) => i + 1));
      expect(events.filter(isTerminal)).toHaveLength(1);
    }
    expect(a.at(-1)).toMatchObject({ result: { version: 1 } });
    expect(b.at(-1)).toMatchObject({ result: { version: 2 } });
    // Interleaved: b's first event arrived before a's last.
    expect(socket.messages.findIndex((m) => m.id === "b")).toBeLessThan(socket.messages.findLastIndex((m) => m.id === "a"));
  });

  it("cancel ends that run with a CANCELLED error event and leaves the other running", async () => {
    const { wsBase } = await startTestServer();
    const socket = await openSocket(`${wsBase}/ws/client-3`);
    socket.send({ type: "run", id: "long", graph: "tokens", input: { tag: "ws-cancel", waitMs: 10_000 } });
    socket.send({ type: "run", id: "short", graph: "tokens", input: { n: 3, waitMs: 100 } });
    await socket.next((m) => m.id === "long" && m.type === "node_start");
    socket.send({ type: "cancel", id: "long" });
    const long = await socket.operation("long");
    expect(long.at(-1)).toMatchObject({ type: "error", error_code: "CANCELLED", id: "long" });
    expect(aborted.has("ws-cancel")).toBe(true);
    expect((await socket.operation("short")).at(-1)).toMatchObject({ type: "result" });
    socket.send({ type: "cancel", id: "long" });
    expect(await socket.next((m) => m.type === "error" && m.id === "long" && m.seq === undefined)).toMatchObject({ error_code: "NOT_FOUND" });
  });

  it("answers protocol errors with an error message and keeps the socket open", async () => {
    const { wsBase } = await startTestServer();
    const socket = await openSocket(`${wsBase}/ws/client-4`);
    const cases: Array<[unknown, Partial<Msg>]> = [
      ["{not json", { error_code: "INVALID_JSON" }],
      [{ type: "dance", id: "x1" }, { id: "x1", error_code: "VALIDATION_ERROR" }],
      [{ id: "x2" }, { id: "x2", error_code: "VALIDATION_ERROR" }],
      [{ type: "run", id: "x3" }, { id: "x3", error_code: "VALIDATION_ERROR" }],
      [{ type: "run", id: "x4", graph: "nope", input: {} }, { id: "x4", error_code: "NOT_FOUND" }],
      [{ type: "run", id: "x5", graph: "tokens", version: 9, input: {} }, { id: "x5", error_code: "NOT_FOUND" }],
      [{ type: "subscribe", id: "x6", task_id: "no-such-task" }, { id: "x6", error_code: "NOT_FOUND" }],
      [{ type: "cancel", id: "x7" }, { id: "x7", error_code: "NOT_FOUND" }],
    ];
    for (const [message, expected] of cases) {
      const from = socket.messages.length;
      socket.send(message);
      expect(await socket.next((m) => m.type === "error", 5_000, from)).toMatchObject({ type: "error", ...expected, error: expect.any(String) });
    }
    socket.send({ type: "run", id: "bad-input", graph: "tokens", input: { n: "many" } });
    const invalid = await socket.next((m) => m.id === "bad-input");
    expect(invalid).toMatchObject({ type: "error", error_code: "VALIDATION_ERROR" });
    expect(invalid.details).toEqual([expect.objectContaining({ path: ["n"] })]);
    expect(invalid.seq).toBeUndefined();
    socket.send({ type: "ping", id: "p1" });
    expect(await socket.next((m) => m.type === "pong")).toEqual({ type: "pong", id: "p1" });
  });

  it("refuses a second operation under an id still in flight (CONFLICT)", async () => {
    const { wsBase } = await startTestServer();
    const socket = await openSocket(`${wsBase}/ws/client-5`);
    socket.send({ type: "run", id: "same", graph: "tokens", input: { waitMs: 200 } });
    socket.send({ type: "run", id: "same", graph: "tokens", input: {} });
    expect(await socket.next((m) => m.id === "same" && m.type === "error")).toMatchObject({ error_code: "CONFLICT" });
    expect(await socket.next((m) => m.id === "same" && m.type === "result")).toMatchObject({ result: { count: 0 } });
  });

  it("refuses operations beyond ws.maxOperationsPerConnection in flight (RATE_LIMITED); ended ones free their slot", async () => {
    const { wsBase } = await startTestServer({ ws: { maxOperationsPerConnection: 2 } });
    const socket = await openSocket(`${wsBase}/ws/client-7`);
    for (const id of ["o1", "o2", "o3"]) socket.send({ type: "run", id, graph: "tokens", input: { waitMs: id === "o1" ? 50 : 5_000 } });
    expect(await socket.next((m) => m.id === "o3")).toMatchObject({ type: "error", error_code: "RATE_LIMITED" });
    await socket.operation("o1");
    socket.send({ type: "run", id: "o4", graph: "tokens", input: {} });
    expect((await socket.operation("o4")).at(-1)).toMatchObject({ type: "result" });
  });

  it("a client that goes away aborts its runs", async () => {
    const server = await startTestServer();
    const socket = await openSocket(`${server.wsBase}/ws/client-6`);
    socket.send({ type: "run", id: "r", graph: "tokens", input: { tag: "ws-gone", waitMs: 10_000 } });
    await socket.next((m) => m.type === "node_start");
    expect(await metricValue(server, "kaygraph_ws_connections")).toBe(1);
    socket.ws.close();
    await until(() => aborted.has("ws-gone"), "the run's signal to fire");
    await until(async () => (await metricValue(server, "kaygraph_ws_connections")) === 0, "the gauge to drop");
  });
});

describe("WS /ws/{client_id}: subscriptions", () => {
  it("subscribes to a task started over HTTP and receives every event in order, then the result", async () => {
    const { base, wsBase } = await startTestServer();
    const socket = await openSocket(`${wsBase}/ws/sub-1`);
    const id = await submit(base, { n: 30, yieldEvery: 1 });
    socket.send({ type: "subscribe", id: "s1", task_id: id });
    const events = await socket.operation("s1");
    expect(seqs(events)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === "data")).toHaveLength(30);
    expect(events.at(-1)).toMatchObject({ type: "result", id: "s1", result: { count: 30 } });
    const stored = await (await fetch(`${base}/tasks/${id}/events`)).text();
    expect(stored.match(/^id: /gm)).toHaveLength(events.length);
  });

  it("resumes with after_seq on a new socket after a dropped one: no gap, no duplicate", async () => {
    const { base, wsBase } = await startTestServer();
    const id = await submit(base, { n: 60, yieldEvery: 1 });
    const first = await openSocket(`${wsBase}/ws/sub-2`);
    first.send({ type: "subscribe", id: "s", task_id: id });
    await first.next((m) => m.id === "s" && (m.seq ?? 0) >= 12);
    first.ws.terminate();
    const got = first.messages.filter((m) => m.id === "s");
    const last = got.at(-1)!.seq!;
    const second = await openSocket(`${wsBase}/ws/sub-2`);
    second.send({ type: "subscribe", id: "s", task_id: id, after_seq: last });
    const rest = await second.operation("s");
    expect(seqs([...got, ...rest])).toEqual([...got, ...rest].map((_, i) => i + 1));
    expect(rest.at(-1)).toMatchObject({ type: "result" });
    // Past the end: nothing will ever come, and the server says so.
    second.send({ type: "subscribe", id: "again", task_id: id, after_seq: rest.at(-1)!.seq });
    expect(await second.next((m) => m.id === "again")).toMatchObject({ type: "error", error_code: "CONFLICT" });
  });

  it("cancel stops a subscription with a `cancelled` message; the task goes on", async () => {
    const { base, wsBase } = await startTestServer();
    const id = await submit(base, { waitMs: 300 });
    const socket = await openSocket(`${wsBase}/ws/sub-3`);
    socket.send({ type: "subscribe", id: "s", task_id: id });
    await socket.next((m) => m.id === "s" && m.type === "node_start");
    socket.send({ type: "cancel", id: "s" });
    expect(await socket.next((m) => m.id === "s" && m.type === "cancelled")).toEqual({ type: "cancelled", id: "s" });
    await until(async () => ((await (await fetch(`${base}/tasks/${id}`)).json()) as { status: string }).status === "completed", "the task to complete");
    expect(socket.messages.filter((m) => m.id === "s" && isTerminal(m))).toEqual([]);
  });

  it("a slow reader of a large task is paced (paused, then resumed from the last seq), neither buffered for nor dropped", async () => {
    const server = await startTestServer({ ws: { maxBufferedBytes: 64 * 1024 } });
    // 16 MB of events: far more than the kernel's socket buffers hold for a reader that reads nothing.
    const id = await submit(server.base, { n: 2_000, chunkBytes: 8_000, yieldEvery: 200 });
    await until(async () => ((await (await fetch(`${server.base}/tasks/${id}`)).json()) as { status: string }).status === "completed", "the task to complete");
    const socket = await openSocket(`${server.wsBase}/ws/sub-4`);
    let pings = 0;
    socket.ws.on("ping", () => pings++);
    socket.ws.pause();
    socket.send({ type: "subscribe", id: "s", task_id: id });
    await until(async () => (await metricValue(server, "kaygraph_ws_buffered_bytes")) > 0, "the server to hold back data for this reader");
    socket.ws.resume();
    const events = await socket.operation("s", 30_000);
    expect(events).toHaveLength(2_004);
    expect(seqs(events)).toEqual(events.map((_, i) => i + 1));
    expect(pings).toBeGreaterThan(0); // each pause waits for a ping queued behind the data to go out
    expect(await metricValue(server, "kaygraph_ws_server_closes_total", { code: "1013" })).toBe(0);
  });
});
