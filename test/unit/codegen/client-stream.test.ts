import { describe, expect, it } from "vitest";
import { fakeApi, frame, importGeneratedClient, sendJson, startEventStream } from "./support.js";

type Event = { type: string; seq: number; [key: string]: unknown };

const run: Event[] = [
  { type: "start", seq: 1, ts: 1, run_id: "r" },
  { type: "node_start", seq: 2, ts: 2, node: "n" },
  { type: "data", seq: 3, ts: 3, node: "n", chunk: "line one\nline two — ✓ é" },
  { type: "node_end", seq: 4, ts: 4, node: "n", action: "default", duration_ms: 1 },
  { type: "result", seq: 5, ts: 5, result: { text: "done" } },
];

async function collect(events: AsyncIterable<Event>): Promise<Event[]> {
  const out: Event[] = [];
  for await (const event of events) out.push(event);
  return out;
}

describe("generated client: stream()", () => {
  it("parses SSE split at every byte, with CRLF, CR, comments, multi-line data and UTF-8, and ends after the result", async () => {
    const wire = [
      ": heartbeat\r\n\r\n",
      frame(run[0]!).replace(/\n/g, "\r\n"),
      frame(run[1]!).replace(/\n/g, "\r"),
      `event: data\nid: 3\ndata: ${JSON.stringify(run[2]).slice(0, 20)}\ndata:${JSON.stringify(run[2]).slice(20)}\n\n`.replace(/\n/g, "\r\n"),
      frame(run[3]!),
      frame(run[4]!),
      frame({ type: "data", seq: 6, ts: 6, node: "n", chunk: "never read" }),
    ].join("");
    const bytes = Buffer.from(wire);
    const calls: Array<[string, RequestInit]> = [];
    let served = 0;
    // One byte per chunk: frames, lines, CRLF pairs and UTF-8 sequences are all split across reads.
    const fetch = async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (served < bytes.length) controller.enqueue(bytes.subarray(served, ++served));
          else controller.close();
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
    };
    const { createClient } = await importGeneratedClient();
    const events = await collect(createClient({ baseUrl: "http://api.test", fetch }).hello.v1.stream({ text: "héllo — ✓" }));
    expect(events).toEqual(run);
    expect(served).toBeLessThan(bytes.length);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe("http://api.test/api/v1/hello/stream");
    expect(calls[0]![1]).toMatchObject({ method: "POST", body: JSON.stringify({ text: "héllo — ✓" }), headers: { accept: "text/event-stream" } });
  });

  it("a stream that ends before its final event throws STREAM_INTERRUPTED; a 422 before it throws VALIDATION_ERROR", async () => {
    const api = await fakeApi((req, res) => {
      if (req.body.includes("bad")) return sendJson(res, 422, { error: "Invalid", error_code: "VALIDATION_ERROR", request_id: "rq" });
      startEventStream(res);
      res.end(frame(run[0]!));
    });
    const { createClient } = await importGeneratedClient();
    const client = createClient({ baseUrl: api.base });
    const seen: Event[] = [];
    const error = await (async () => {
      for await (const event of client.hello.v1.stream({ text: "x" })) seen.push(event);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([run[0]]);
    expect(error).toMatchObject({ name: "KaygraphApiError", status: 200, error_code: "STREAM_INTERRUPTED", request_id: "req-sse" });
    await expect(collect(client.hello.v1.stream({ text: "bad" }))).rejects.toMatchObject({ status: 422, error_code: "VALIDATION_ERROR" });
  });

  it("leaving the loop early closes the connection, so the server can end the run", async () => {
    const api = await fakeApi((_req, res) => {
      startEventStream(res);
      res.write(frame(run[0]!) + frame(run[1]!));
    });
    const { createClient } = await importGeneratedClient();
    for await (const event of createClient({ baseUrl: api.base }).hello.v1.stream({ text: "x" })) {
      expect(event.type).toBe("start");
      break;
    }
    await expect.poll(() => api.closed).toEqual([0]);
  });

  it("the caller's signal aborts the stream", async () => {
    const api = await fakeApi((_req, res) => {
      startEventStream(res);
      res.write(frame(run[0]!));
    });
    const { createClient } = await importGeneratedClient();
    const controller = new AbortController();
    const seen: string[] = [];
    const error = await (async () => {
      for await (const event of createClient({ baseUrl: api.base }).hello.v1.stream({ text: "x" }, { signal: controller.signal })) {
        seen.push(event.type);
        controller.abort(new Error("user stopped"));
      }
    })().catch((e: unknown) => e);
    expect(seen).toEqual(["start"]);
    expect(error).toMatchObject({ message: expect.stringMatching(/user stopped|aborted/i) });
    await expect.poll(() => api.closed).toEqual([0]);
  });
});

describe("generated client: subscribe()", () => {
  // A failed first attempt, a retry event, and a second attempt that completes.
  const task: Event[] = [
    { type: "start", seq: 1, ts: 1, run_id: "t" },
    { type: "node_end", seq: 2, ts: 2, node: "n", action: "default", duration_ms: 1 },
    { type: "retry", seq: 3, ts: 3, attempt: 1, error: "boom", error_code: "GRAPH_ERROR", delay_ms: 10 },
    { type: "start", seq: 4, ts: 4, run_id: "t" },
    { type: "data", seq: 5, ts: 5, node: "n", chunk: 1 },
    { type: "result", seq: 6, ts: 6, result: { text: "ok" } },
  ];

  it("resumes after a dropped connection with Last-Event-ID: every event once, in order, then it ends", async () => {
    const api = await fakeApi((req, res, index) => {
      startEventStream(res);
      const after = Number(req.headers["last-event-id"] ?? 0);
      if (index === 0) {
        // Two events, then the connection breaks (no clean end).
        res.write(`retry: 5\n\n${frame(task[0]!)}${frame(task[1]!)}`, () => res.destroy());
      } else if (index === 1) {
        // The server replays one event the client already has, sends one more, then ends cleanly too early.
        res.end(task.filter((e) => e.seq >= after && e.seq <= 3).map(frame).join(""));
      } else {
        res.write(task.filter((e) => e.seq > after).map(frame).join(""));
      }
    });
    const { createClient } = await importGeneratedClient();
    const events = await collect(createClient({ baseUrl: api.base, reconnect: { delayMs: 1 } }).subscribe("task 1"));
    expect(events).toEqual(task);
    expect(api.seen.map((r) => [r.method, r.url, r.headers["last-event-id"], r.headers.accept])).toEqual([
      ["GET", "/tasks/task%201/events", undefined, "text/event-stream"],
      ["GET", "/tasks/task%201/events", "2", "text/event-stream"],
      ["GET", "/tasks/task%201/events", "3", "text/event-stream"],
    ]);
  });

  it("after: starts after that seq; 503 is retried; 404 is thrown at once", async () => {
    const api = await fakeApi((req, res, index) => {
      if (req.url.includes("missing")) return sendJson(res, 404, { error: "No such task", error_code: "NOT_FOUND", request_id: "rq" });
      if (index === 0) return sendJson(res, 503, { error: "Starting", error_code: "UNAVAILABLE", request_id: "rq" });
      startEventStream(res);
      res.write(task.filter((e) => e.seq > Number(req.headers["last-event-id"])).map(frame).join(""));
    });
    const { createClient } = await importGeneratedClient();
    const client = createClient({ baseUrl: api.base, reconnect: { delayMs: 1 } });
    expect((await collect(client.subscribe("t1", { after: 4 }))).map((e) => e.seq)).toEqual([5, 6]);
    expect(api.seen.map((r) => r.headers["last-event-id"])).toEqual(["4", "4"]);
    await expect(collect(client.subscribe("missing"))).rejects.toMatchObject({ status: 404, error_code: "NOT_FOUND" });
    expect(api.seen).toHaveLength(3);
  });

  it("gives up after `attempts` reconnects in a row without a new event", async () => {
    const api = await fakeApi((_req, res) => {
      startEventStream(res);
      res.end(": nothing to say\n\n");
    });
    const { createClient } = await importGeneratedClient();
    const client = createClient({ baseUrl: api.base, reconnect: { attempts: 2, delayMs: 1 } });
    await expect(collect(client.subscribe("t1"))).rejects.toMatchObject({ error_code: "STREAM_INTERRUPTED" });
    expect(api.seen).toHaveLength(3);
  });
});
