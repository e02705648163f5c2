import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Graph, Node, defineGraph } from "../../../src/index.js";
import { registryOf as appRegistry, serveApp } from "../../helpers/app-server.js";
import { fakeApi, graphAt, importGeneratedClient, sendJson } from "./support.js";

describe("generated client: JSON calls", () => {
  it("run() posts the input with auth, request id and headers, and resolves to the result", async () => {
    const api = await fakeApi((_req, res) => sendJson(res, 200, { result: { text: "HI" }, metadata: { request_id: "r1", graph: "hello", version: 1, duration_ms: 1 } }));
    const { createClient } = await importGeneratedClient();
    let tokens = 0;
    const client = createClient({ baseUrl: `${api.base}/prefix/`, token: async () => `t${++tokens}`, headers: { "x-app": "demo" } });
    expect(await client.hello.v1.run({ text: "hi" }, { requestId: "my-id", headers: { "x-call": "1" } })).toEqual({ text: "HI" });
    await client.graphs.hello.latest.run({ name: "Ada" });
    await client.hello.v2.run({ name: "Bo" }, { headers: { Authorization: "Basic abc", "X-App": "override" } });
    expect(api.seen.map((r) => `${r.method} ${r.url}`)).toEqual(["POST /prefix/api/v1/hello", "POST /prefix/api/v2/hello", "POST /prefix/api/v2/hello"]);
    const [first, second, third] = api.seen;
    expect(first!.headers).toMatchObject({ authorization: "Bearer t1", "content-type": "application/json", accept: "application/json", "x-request-id": "my-id", "x-app": "demo", "x-call": "1" });
    expect(JSON.parse(first!.body)).toEqual({ text: "hi" });
    expect(second!.headers.authorization).toBe("Bearer t2");
    // A call's own Authorization wins over the token (and the token function is not asked).
    expect(third!.headers).toMatchObject({ authorization: "Basic abc", "x-app": "override" });
    expect(tokens).toBe(2);
  });

  it("error answers become KaygraphApiError with status, error_code, request_id, details and retry_after", async () => {
    const api = await fakeApi((req, res) => {
      if (req.url.endsWith("/say-hello")) return sendJson(res, 422, { error: "Invalid input", error_code: "VALIDATION_ERROR", request_id: "rq-1", details: [{ path: ["text"] }] });
      if (req.url.endsWith("/hello")) return sendJson(res, 429, { error: "Slow down", error_code: "RATE_LIMITED", request_id: "rq-2" }, { "retry-after": "7" });
      res.writeHead(502, { "content-type": "text/html", "x-request-id": "proxy-1" });
      res.end("<html>Bad gateway</html>");
    });
    const { createClient, KaygraphApiError } = await importGeneratedClient();
    const client = createClient({ baseUrl: api.base });
    const invalid = await client.sayHello.v1.run({ text: 1 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(KaygraphApiError);
    expect(invalid).toMatchObject({ name: "KaygraphApiError", status: 422, error_code: "VALIDATION_ERROR", request_id: "rq-1", message: "Invalid input", details: [{ path: ["text"] }] });
    await expect(client.hello.v1.run({ text: "x" })).rejects.toMatchObject({ status: 429, error_code: "RATE_LIMITED", retry_after: 7 });
    await expect(client.g3d.v1.run({ text: "x" })).rejects.toMatchObject({ status: 502, error_code: "UNEXPECTED_RESPONSE", request_id: "proxy-1", message: expect.stringContaining("Bad gateway") });
  });

  it("submit() sends Idempotency-Key; task(), cancel() and tasks() use the task routes", async () => {
    const record = { id: "t/1", graph: "hello", version: 1, status: "cancelled", created_at: "x", started_at: null, completed_at: "y", attempts: 0, result: null, error: null };
    const api = await fakeApi((req, res) => {
      if (req.url.endsWith("/async")) return sendJson(res, 202, { task_id: "t/1", status: "pending", check_url: "/tasks/t%2F1" });
      if (req.method === "DELETE" && api.seen.filter((r) => r.method === "DELETE").length > 1) return sendJson(res, 409, { error: "Already terminal", error_code: "CONFLICT", request_id: "rq" });
      if (req.url.startsWith("/tasks?")) return sendJson(res, 200, { tasks: [record], next_cursor: null });
      sendJson(res, 200, record);
    });
    const { createClient } = await importGeneratedClient();
    const client = createClient({ baseUrl: api.base });
    expect(await client.wordCount.v3.submit({ text: "a" }, { idempotencyKey: "key-1" })).toEqual({ task_id: "t/1", status: "pending", check_url: "/tasks/t%2F1" });
    expect(await client.task("t/1")).toEqual(record);
    expect(await client.cancel("t/1")).toEqual(record);
    await expect(client.cancel("t/1")).rejects.toMatchObject({ status: 409, error_code: "CONFLICT" });
    expect(await client.tasks({ status: "completed", graph: "hello", limit: 5, cursor: undefined })).toEqual({ tasks: [record], next_cursor: null });
    await client.tasks();
    // A graph named like a client method is only under client.graphs.
    await client.graphs.tasks.v1.submit({ text: "b" });
    expect(api.seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      "POST /api/v3/word_count/async",
      "GET /tasks/t%2F1",
      "DELETE /tasks/t%2F1",
      "DELETE /tasks/t%2F1",
      "GET /tasks?status=completed&graph=hello&limit=5",
      "GET /tasks",
      "POST /api/v1/tasks/async",
    ]);
    expect(api.seen[0]!.headers["idempotency-key"]).toBe("key-1");
    expect(api.seen[6]!.headers["idempotency-key"]).toBeUndefined();
  });

  it("per-graph resume() and state(): the value in { value }, Idempotency-Key, and never another graph's task", async () => {
    const record = (id: string, graph: string, status: string) => ({ id, graph, version: 2, status, created_at: "x", started_at: "x", completed_at: null, attempts: 1, result: null, error: null, interrupt: null });
    const state = { shared: { input: { name: "Ada" } }, next_node: "Review", step: 1 };
    const api = await fakeApi((req, res) => {
      const id = decodeURIComponent(req.url.split("/")[2] ?? "");
      const graph = id === "other" ? "say-hello" : "hello";
      if (req.url.endsWith("/state")) return sendJson(res, 200, state);
      sendJson(res, req.method === "POST" ? 202 : 200, record(id, graph, req.method === "POST" ? "pending" : "interrupted"));
    });
    const { createClient } = await importGeneratedClient();
    const client = createClient({ baseUrl: api.base });
    expect(await client.hello.v2.resume("t/2", { approved: true }, { idempotencyKey: "r-1" })).toMatchObject({ id: "t/2", status: "pending" });
    expect(await client.graphs.hello.latest.state("t/2")).toEqual(state);
    await expect(client.hello.v2.resume("other", { approved: true })).rejects.toMatchObject({ status: 404, error_code: "NOT_FOUND" });
    await expect(client.hello.v2.state("other")).rejects.toMatchObject({ status: 404, error_code: "NOT_FOUND" });
    expect(api.seen.map((r) => `${r.method} ${r.url}`)).toEqual(["GET /tasks/t%2F2", "POST /tasks/t%2F2/resume", "GET /tasks/t%2F2", "GET /tasks/t%2F2/state", "GET /tasks/other", "GET /tasks/other"]);
    expect(JSON.parse(api.seen[1]!.body)).toEqual({ value: { approved: true } });
    expect(api.seen[1]!.headers["idempotency-key"]).toBe("r-1");
  });

  it("works against the real server: run() returns the output, invalid input is VALIDATION_ERROR", async () => {
    class Upper extends Node {
      override post(shared: { input: { text: string }; output?: unknown }) {
        shared.output = { text: shared.input.text.toUpperCase() };
      }
    }
    const upper = defineGraph({ input: z.object({ text: z.string() }), output: z.object({ text: z.string() }), graph: () => new Graph(new Upper()) });
    const { base } = await serveApp(appRegistry([["upper", 1, upper]]));
    const { createClient, KaygraphApiError } = await importGeneratedClient([graphAt("graphs/upper.ts", "upper", 1)]);
    const client = createClient({ baseUrl: base });
    expect(await client.upper.v1.run({ text: "abc" })).toEqual({ text: "ABC" });
    const error = await client.upper.latest.run({ text: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KaygraphApiError);
    expect(error).toMatchObject({ status: 422, error_code: "VALIDATION_ERROR", request_id: expect.any(String), details: expect.any(Array) });
  });
});
