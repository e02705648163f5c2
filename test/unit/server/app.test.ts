import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Graph, Node, defineGraph } from "../../../src/index.js";
import { postJson, registryOf, serveApp } from "../../helpers/app-server.js";

class Echo extends Node {
  override prep(shared: { input: { text: string; waitMs?: number; fail?: boolean; bad?: boolean } }) {
    return shared.input;
  }
  override async exec(input: { text: string; waitMs?: number; fail?: boolean }) {
    if (input.fail) throw new Error("secret internal detail");
    if (input.waitMs) {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, input.waitMs);
        this.signal.addEventListener("abort", () => {
          clearTimeout(t);
          aborted.push(input.text);
          reject(new Error("aborted"));
        });
      });
    }
    return input;
  }
  override post(shared: { output?: unknown }, _p: unknown, input: { text: string; bad?: boolean }) {
    shared.output = input.bad ? { text: 42 } : { text: input.text };
  }
}
const aborted: string[] = [];

const echoInput = z.object({ text: z.string(), waitMs: z.number().int().min(0).optional(), fail: z.boolean().optional(), bad: z.boolean().optional() });
const echo = defineGraph({ description: "Echo", input: echoInput, output: z.object({ text: z.string() }), graph: () => new Graph(new Echo()), timeoutMs: 300, examples: [{ name: "hi", input: { text: "hi" } }] });
const echoV2 = defineGraph({ input: z.object({ text: z.string() }), output: z.object({ text: z.string(), v: z.literal(2) }), graph: () => new Graph(new Echo()), result: (s: { output: { text: string } }) => ({ ...s.output, v: 2 as const }) });
const old = defineGraph({ input: z.object({}), output: z.object({}), graph: new Graph(new Node()), result: () => ({}), sunset: "2027-01-01T00:00:00Z" });
const registry = registryOf([
  ["echo", 1, echo],
  ["echo", 2, echoV2],
  ["old", 1, old],
]);

describe("createApp: graph routes", () => {
  it("runs a graph and answers result and metadata with the request id", async () => {
    const { base } = await serveApp(registry);
    const r = await postJson(`${base}/api/v1/echo`, { text: "hello" }, { "x-request-id": "my-req.1:a_b-c" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ result: { text: "hello" }, metadata: { request_id: "my-req.1:a_b-c", graph: "echo", version: 1 } });
    expect(typeof r.body!.metadata.duration_ms).toBe("number");
    expect(r.headers.get("x-request-id")).toBe("my-req.1:a_b-c");
  });

  it("serves v1 and v2 side by side", async () => {
    const { base } = await serveApp(registry);
    expect((await postJson(`${base}/api/v2/echo`, { text: "x" })).body!.result).toEqual({ text: "x", v: 2 });
    expect((await postJson(`${base}/api/v1/echo`, { text: "x" })).body!.result).toEqual({ text: "x" });
  });

  it("replaces an invalid X-Request-ID with a fresh one", async () => {
    const { base } = await serveApp(registry);
    const r = await postJson(`${base}/api/v1/echo`, { text: "x" }, { "x-request-id": "bad id with spaces" });
    expect(r.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const long = await fetch(`${base}/health`, { headers: { "x-request-id": "a".repeat(129) } });
    expect(long.headers.get("x-request-id")).not.toBe("a".repeat(129));
  });

  it("422 VALIDATION_ERROR with the zod issues in details", async () => {
    const { base } = await serveApp(registry);
    const r = await postJson(`${base}/api/v1/echo`, { text: 1 });
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ error_code: "VALIDATION_ERROR", request_id: r.headers.get("x-request-id") });
    expect(r.body!.details).toEqual([expect.objectContaining({ path: ["text"], code: "invalid_type" })]);
  });

  it("400 INVALID_JSON, 413 PAYLOAD_TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE", async () => {
    const { base } = await serveApp(registry, { server: { bodyLimit: "1kb" } });
    const bad = await postJson(`${base}/api/v1/echo`, '{"text":');
    expect(bad.status).toBe(400);
    expect(bad.body!.error_code).toBe("INVALID_JSON");
    const big = await postJson(`${base}/api/v1/echo`, { text: "x".repeat(2000) });
    expect(big.status).toBe(413);
    expect(big.body!.error_code).toBe("PAYLOAD_TOO_LARGE");
    const form = await fetch(`${base}/api/v1/echo`, { method: "POST", headers: { "content-type": "text/plain" }, body: "text=hi" });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { error_code: string }).error_code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it("an empty POST body is {} (schema defaults apply)", async () => {
    const { base } = await serveApp(registry);
    const r = await fetch(`${base}/api/v1/old`, { method: "POST" });
    expect(r.status).toBe(200);
  });

  it("404 NOT_FOUND for unknown paths and 405 with Allow for a wrong method", async () => {
    const { base } = await serveApp(registry);
    const missing = await fetch(`${base}/api/v9/echo`, { method: "POST" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error_code: string }).error_code).toBe("NOT_FOUND");
    const wrong = await fetch(`${base}/api/v1/echo`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    expect(((await wrong.json()) as { error_code: string }).error_code).toBe("METHOD_NOT_ALLOWED");
    const health = await fetch(`${base}/health`, { method: "DELETE" });
    expect(health.status).toBe(405);
    expect(health.headers.get("allow")).toBe("GET, HEAD");
  });

  it("500 GRAPH_ERROR hides the message unless debug, never a stack", async () => {
    const { base } = await serveApp(registry);
    const r = await postJson(`${base}/api/v1/echo`, { text: "x", fail: true });
    expect(r.status).toBe(500);
    expect(r.body!.error_code).toBe("GRAPH_ERROR");
    expect(JSON.stringify(r.body)).not.toContain("secret internal detail");
    expect(JSON.stringify(r.body)).not.toMatch(/\bat .*:\d+|\/src\//);
    const shape = await postJson(`${base}/api/v1/echo`, { text: "x", bad: true });
    expect(shape.status).toBe(500);
    expect(shape.body!.error_code).toBe("GRAPH_ERROR");
    const dev = await serveApp(registry, {}, { debug: true });
    const shown = await postJson(`${dev.base}/api/v1/echo`, { text: "x", fail: true });
    expect(shown.body!.error).toBe("secret internal detail");
  });

  it("504 TIMEOUT aborts the run", async () => {
    const { base } = await serveApp(registry);
    const r = await postJson(`${base}/api/v1/echo`, { text: "slow-one", waitMs: 10_000 });
    expect(r.status).toBe(504);
    expect(r.body!.error_code).toBe("TIMEOUT");
    expect(aborted).toContain("slow-one");
  });

  it("a client that disconnects aborts its run", async () => {
    const { base } = await serveApp(registry);
    const c2 = new AbortController();
    const slow = fetch(`${base}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "client-gone", waitMs: 250 }), signal: c2.signal }).catch(() => undefined);
    setTimeout(() => c2.abort(), 50);
    await slow;
    const deadline = Date.now() + 2000;
    while (!aborted.includes("client-gone") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(aborted).toContain("client-gone");
  });

  it("deprecated graphs answer with Deprecation and Sunset headers", async () => {
    const { base } = await serveApp(registry);
    const r = await fetch(`${base}/api/v1/old`, { method: "POST" });
    expect(r.headers.get("deprecation")).toBe("true");
    expect(r.headers.get("sunset")).toBe("Fri, 01 Jan 2027 00:00:00 GMT");
    const current = await postJson(`${base}/api/v1/echo`, { text: "x" });
    expect(current.headers.get("deprecation")).toBeNull();
  });
});

describe("createApp: headers and CORS", () => {
  it("sets helmet headers and no X-Powered-By", async () => {
    const { base } = await serveApp(registry);
    const r = await fetch(`${base}/health`);
    expect(r.headers.get("x-powered-by")).toBeNull();
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    expect(r.headers.get("content-security-policy")).toBe("default-src 'none';frame-ancestors 'none'");
    expect(r.headers.get("x-frame-options")).toBe("DENY");
    expect(r.headers.get("strict-transport-security")).toContain("max-age=");
    // The docs page gets helmet's page policy, so its own scripts and styles load.
    const docs = await fetch(`${base}/docs`);
    expect(docs.headers.get("content-security-policy")).toContain("script-src 'self'");
  });

  it("CORS is closed by default and opens for allow-listed origins", async () => {
    const closed = await serveApp(registry);
    const r1 = await fetch(`${closed.base}/health`, { headers: { origin: "https://app.example" } });
    expect(r1.headers.get("access-control-allow-origin")).toBeNull();
    const open = await serveApp(registry, { server: { corsOrigins: ["https://app.example"] } });
    const r2 = await fetch(`${open.base}/health`, { headers: { origin: "https://app.example" } });
    expect(r2.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const r3 = await fetch(`${open.base}/health`, { headers: { origin: "https://evil.example" } });
    expect(r3.headers.get("access-control-allow-origin")).toBeNull();
    const pre = await fetch(`${open.base}/api/v1/echo`, { method: "OPTIONS", headers: { origin: "https://app.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
  });
});

describe("createApp: service routes", () => {
  it("/health, /ready (503 while draining) and /metrics", async () => {
    const state = { phase: "ready" as "ready" | "draining" | "starting" };
    const { base } = await serveApp(registry, {}, { state });
    expect(await (await fetch(`${base}/health`)).json()).toMatchObject({ status: "healthy", service: "kaygraph-api" });
    expect((await fetch(`${base}/ready`)).status).toBe(200);
    state.phase = "draining";
    const draining = await fetch(`${base}/ready`);
    expect(draining.status).toBe(503);
    expect(((await draining.json()) as { error_code: string }).error_code).toBe("UNAVAILABLE");
    state.phase = "ready";
    await postJson(`${base}/api/v1/echo`, { text: "m" });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('kaygraph_http_request_duration_seconds_count{method="POST",route="/api/v1/echo",status="200"}');
    expect(metrics).toMatch(/kaygraph_graph_run_duration_seconds_count\{graph="echo",version="1",outcome="completed"\} \d+/);
    expect(metrics).toMatch(/kaygraph_node_duration_seconds_count\{graph="echo",node="Echo"\} \d+/);
  });

  it("/openapi.json is OpenAPI 3.1 with schemas, examples, errors and deprecation", async () => {
    const { base } = await serveApp(registry);
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    const run = doc.paths["/api/v1/echo"].post;
    expect(run.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/EchoV1Input" });
    expect(run.requestBody.content["application/json"].examples.hi.value).toEqual({ text: "hi" });
    expect(Object.keys(run.responses)).toEqual(expect.arrayContaining(["200", "400", "413", "415", "422", "429", "500", "504"]));
    expect(doc.components.schemas.EchoV1Input.properties.text).toEqual({ type: "string" });
    expect(doc.components.schemas.EchoV2Output.required).toEqual(["text", "v"]);
    expect(doc.paths["/api/v1/old"].post.deprecated).toBe(true);
    expect(doc.paths["/api/v1/echo/async"].post.responses["202"]).toBeDefined();
    expect(doc.paths["/tasks/{id}"].delete.responses["409"]).toBeDefined();
    expect(doc.components.securitySchemes).toBeUndefined();
    const secured = await serveApp(registry, { auth: { mode: "jwt", secret: "x".repeat(40) } });
    const sdoc = (await (await fetch(`${secured.base}/openapi.json`)).json()) as any;
    expect(sdoc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(sdoc.security).toEqual([{ bearerAuth: [] }]);
  });

  it("/docs serves an interactive page from local assets (no CDN)", async () => {
    const { base } = await serveApp(registry);
    const page = await (await fetch(`${base}/docs`)).text();
    expect(page).toContain("/docs/assets/swagger-ui-bundle.js");
    expect(page).not.toMatch(/https?:\/\//);
    const asset = await fetch(`${base}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(100_000);
    expect(await (await fetch(`${base}/docs/init.js`)).text()).toContain('url: "/openapi.json"');
  });
});

describe("createApp: static files", () => {
  it("serves server.static at / after every route, with page headers, no dotfiles, public under auth", async () => {
    const { mkdtempSync, writeFileSync, mkdirSync } = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-static-"));
    writeFileSync(path.join(dir, "index.html"), "<h1>page</h1>");
    writeFileSync(path.join(dir, ".env"), "SECRET=1");
    mkdirSync(path.join(dir, "api", "v1"), { recursive: true });
    writeFileSync(path.join(dir, "api", "v1", "echo"), "shadow attempt");
    const { base } = await serveApp(registry, { server: { static: dir }, auth: { mode: "none" } });
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe("<h1>page</h1>");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect((await fetch(`${base}/.env`)).status).toBe(404);
    expect((await postJson(`${base}/api/v1/echo`, { text: "api wins" })).body!.result).toEqual({ text: "api wins" });
    expect((await fetch(`${base}/missing.js`)).status).toBe(404);
  });
});
