import { describe, expect, it } from "vitest";
import { createClient, eventOf, KaygraphApiError, readEventStream, Transport, type SseMessage } from "../../../src/client/index.js";

/** A text/event-stream Response whose body arrives in the given chunks. */
function sse(chunks: string[], headers: Record<string, string> = {}): Response {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", ...headers } });
}

async function messages(response: Response): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const message of readEventStream(response)) out.push(message);
  return out;
}

/** A fetch that answers each call with the next of `answers` and records what it was asked. */
function scripted(answers: Array<() => Response | Promise<Response>>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const answer = answers[calls.length - 1];
    if (!answer) throw new TypeError("fetch failed: no more answers");
    return answer();
  };
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

describe("kaygraph/client: readEventStream", () => {
  it("follows the WHATWG rules: fields without a space or value, unknown fields, retry, default event name", async () => {
    const out = await messages(sse(["data:a\ndata\nevent: custom\nid: 7\nfoo: bar\n\n", "retry: 1500\ndata: b\n\n", "retry: soon\ndata: c\n\n"]));
    expect(out).toEqual([
      { event: "custom", data: "a\n", retry: undefined },
      { event: "message", data: "b", retry: 1500 },
      { event: "message", data: "c", retry: 1500 },
    ]);
  });

  it("drops a message cut off before its blank line, and ignores frames that only carry comments or an event name", async () => {
    expect(await messages(sse([": keep-alive\n\nevent: lonely\n\ndata: complete\n\ndata: cut off"]))).toEqual([{ event: "message", data: "complete", retry: undefined }]);
  });

  it("a CR at the end of one chunk and LF at the start of the next is one line break", async () => {
    expect(await messages(sse(["data: x\r", "\n\r", "\n"]))).toEqual([{ event: "message", data: "x", retry: undefined }]);
  });

  it("refuses an answer that is not an event stream, quoting its type", async () => {
    const response = new Response("{}", { headers: { "content-type": "application/json", "x-request-id": "rq-1" } });
    await expect(messages(response)).rejects.toMatchObject({ error_code: "UNEXPECTED_RESPONSE", request_id: "rq-1", message: expect.stringContaining("application/json") });
  });

  it("eventOf: the SSE event name fills a missing type; data that is not an object with a seq is UNEXPECTED_RESPONSE", () => {
    const response = sse([]);
    expect(eventOf({ event: "data", data: '{"seq":3,"chunk":1}', retry: undefined }, response)).toEqual({ type: "data", seq: 3, chunk: 1 });
    expect(() => eventOf({ event: "x", data: '"text"', retry: undefined }, response)).toThrow(/not a JSON object/);
    expect(() => eventOf({ event: "x", data: '{"type":"data"}', retry: undefined }, response)).toThrow(/no seq/);
  });
});

describe("kaygraph/client: Transport", () => {
  it("joins headers case-insensitively, asks for a token per request, and keeps a base URL's path", async () => {
    let issued = 0;
    const { fetch, calls } = scripted([json(200, { ok: 1 }), json(200, { ok: 2 })]);
    const http = new Transport({ baseUrl: "https://host/kg//", fetch, headers: { "X-App": "a" }, token: () => `t${++issued}` });
    expect(await http.json("POST", "/x", { body: { a: 1 }, options: { requestId: "r1" } })).toEqual({ ok: 1 });
    await http.json("GET", "/y", { headers: { AUTHORIZATION: "Basic zzz" }, options: {} });
    expect(calls.map((c) => c.url)).toEqual(["https://host/kg/x", "https://host/kg/y"]);
    expect(calls[0]!.init).toMatchObject({ method: "POST", body: '{"a":1}', headers: { accept: "application/json", "x-app": "a", authorization: "Bearer t1", "x-request-id": "r1", "content-type": "application/json" } });
    expect(calls[1]!.init.headers).toEqual({ accept: "application/json", "x-app": "a", authorization: "Basic zzz" });
    expect(issued).toBe(1);
  });

  it("an error answer becomes a KaygraphApiError with the API's code, details and Retry-After; anything else is UNEXPECTED_RESPONSE", async () => {
    const { fetch } = scripted([
      json(429, { error: "Slow down", error_code: "RATE_LIMITED", request_id: "rq", details: { limit: 1 } }, { "retry-after": "3" }),
      () => new Response("<html>Bad gateway</html>", { status: 502, statusText: "Bad Gateway", headers: { "x-request-id": "edge" } }),
      () => new Response("not json", { status: 200 }),
    ]);
    const http = new Transport({ baseUrl: "http://api", fetch });
    const limited = await http.json("GET", "/a", { options: {} }).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(KaygraphApiError);
    expect(limited).toMatchObject({ status: 429, error_code: "RATE_LIMITED", message: "Slow down", request_id: "rq", details: { limit: 1 }, retry_after: 3 });
    await expect(http.json("GET", "/b", { options: {} })).rejects.toMatchObject({ status: 502, error_code: "UNEXPECTED_RESPONSE", request_id: "edge", message: "HTTP 502 Bad Gateway: <html>Bad gateway</html>" });
    await expect(http.json("GET", "/c", { options: {} })).rejects.toMatchObject({ status: 200, error_code: "UNEXPECTED_RESPONSE", message: "The answer is not JSON: not json" });
  });
});

describe("kaygraph/client: createClient", () => {
  const frame = (event: Record<string, unknown>) => `event: ${String(event["type"])}\nid: ${String(event["seq"])}\ndata: ${JSON.stringify(event)}\n\n`;

  it("graph(name, version) calls that version's routes; resume and state call the task routes", async () => {
    const task = { id: "t 1", graph: "g", version: 2, status: "pending" };
    const { fetch, calls } = scripted([json(200, { result: { n: 1 } }), json(202, { task_id: "t 1", status: "pending", check_url: "/tasks/t%201" }), json(202, task), json(200, { shared: { a: 1 }, next_node: "b", step: 1 })]);
    const client = createClient({ baseUrl: "http://api", fetch });
    expect(await client.graph("g", 2).run({ x: 1 })).toEqual({ n: 1 });
    await client.graph("g", 2).submit({ x: 1 }, { idempotencyKey: "k" });
    expect(await client.resume("t 1", { approve: true }, { idempotencyKey: "k2" })).toEqual(task);
    expect(await client.state("t 1")).toEqual({ shared: { a: 1 }, next_node: "b", step: 1 });
    expect(calls.map((c) => `${c.init.method} ${c.url} ${String(c.init.body ?? "")}`)).toEqual([
      'POST http://api/api/v2/g {"x":1}',
      'POST http://api/api/v2/g/async {"x":1}',
      'POST http://api/tasks/t%201/resume {"value":{"approve":true}}',
      "GET http://api/tasks/t%201/state ",
    ]);
    expect(calls[2]!.init.headers).toMatchObject({ "idempotency-key": "k2" });
  });

  it("run() of a run that interrupted (202 with the task record) is an INTERRUPTED error carrying the record", async () => {
    const record = { id: "t9", graph: "g", version: 1, status: "interrupted", interrupt: { node: "ask", value: { q: 1 } } };
    const { fetch } = scripted([json(202, record)]);
    const error = await createClient({ baseUrl: "http://api", fetch }).graph("g", 1).run({}).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 202, error_code: "INTERRUPTED", details: record, message: expect.stringContaining("node ask and became task t9") });
  });

  it("stream() and subscribe() end at an interrupt event", async () => {
    const interrupt = { type: "interrupt", seq: 2, ts: 2, node: "ask", value: { question: "ok?" }, task_id: "t" };
    const { fetch } = scripted([() => sse([frame({ type: "start", seq: 1, ts: 1, run_id: "r" }), frame(interrupt), frame({ type: "data", seq: 3, ts: 3 })]), () => sse([frame(interrupt), frame({ type: "data", seq: 3, ts: 3 })])]);
    const client = createClient({ baseUrl: "http://api", fetch });
    const streamed: string[] = [];
    for await (const event of client.graph("g", 1).stream({})) streamed.push(event.type);
    expect(streamed).toEqual(["start", "interrupt"]);
    const followed: unknown[] = [];
    for await (const event of client.subscribe("t", { after: 1 })) followed.push(event);
    expect(followed).toEqual([interrupt]);
  });

  it("subscribe() takes a server's shutdown notice (error UNAVAILABLE without seq) as a cut: it resumes after the last seq", async () => {
    const notice = "event: error\ndata: " + JSON.stringify({ type: "error", ts: 2, error: "The server is shutting down; reconnect.", error_code: "UNAVAILABLE" }) + "\n\n";
    const { fetch, calls } = scripted([
      () => sse([frame({ type: "start", seq: 1, ts: 1, run_id: "r" }), notice]),
      () => sse([frame({ type: "result", seq: 2, ts: 3, result: { ok: true } })]),
    ]);
    const client = createClient({ baseUrl: "http://api", fetch, reconnect: { delayMs: 1 } });
    const seen: unknown[] = [];
    for await (const event of client.subscribe("t")) seen.push(event.type);
    expect(seen).toEqual(["start", "result"]);
    expect(calls.map((c) => (c.init.headers as Record<string, string>)["last-event-id"])).toEqual([undefined, "1"]);
  });

  it("subscribe() spends no reconnect attempt on a shutdown notice: a rolling restart with no events in between is followed to the end", async () => {
    const notice = "event: error\ndata: " + JSON.stringify({ type: "error", ts: 2, error: "The server is shutting down; reconnect.", error_code: "UNAVAILABLE" }) + "\n\n";
    const { fetch, calls } = scripted([
      () => sse([frame({ type: "start", seq: 1, ts: 1, run_id: "r" }), notice]),
      () => Promise.reject(new TypeError("fetch failed")),
      () => sse([notice]),
      () => sse([notice]),
      () => sse([frame({ type: "result", seq: 2, ts: 3, result: { ok: true } })]),
    ]);
    // One attempt: the network error spends it, the notices do not.
    const client = createClient({ baseUrl: "http://api", fetch, reconnect: { attempts: 1, delayMs: 1 } });
    const seen: unknown[] = [];
    for await (const event of client.subscribe("t")) seen.push(event.type);
    expect(seen).toEqual(["start", "result"]);
    expect(calls.map((c) => (c.init.headers as Record<string, string>)["last-event-id"])).toEqual([undefined, "1", "1", "1", "1"]);
  });

  it("subscribe() reconnects after network errors, waits what the server's retry says, and stops retrying once the caller aborts", async () => {
    const controller = new AbortController();
    const { fetch, calls } = scripted([
      () => Promise.reject(new TypeError("fetch failed")),
      () => sse(["retry: 20\n\n", frame({ type: "start", seq: 1, ts: 1, run_id: "r" })]),
      () => {
        controller.abort(new Error("stop now"));
        return Promise.reject(new TypeError("fetch failed"));
      },
    ]);
    const client = createClient({ baseUrl: "http://api", fetch, reconnect: { delayMs: 1 } });
    const seen: number[] = [];
    const started = performance.now();
    const error = await (async () => {
      for await (const event of client.subscribe("t", { signal: controller.signal })) seen.push(event.seq);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([1]);
    expect(error).toMatchObject({ name: "TypeError", message: "fetch failed" });
    expect(calls.map((c) => (c.init.headers as Record<string, string>)["last-event-id"])).toEqual([undefined, undefined, "1"]);
    // The third call came after the server's 20 ms, not the client's 1 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(19);
  });
});
