/**
 * Hostile input against `kaygraph serve` (issue 15): deep JSON, malformed percent-encoding, secrets in query
 * strings, static symlinks out of the folder, and cancel of a running task. One server for the file.
 */
import { symlinkSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startCli, type CliHandle } from "../helpers/cli.js";
import { ECHO_GRAPH, PACKAGE_JSON } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { linkPackages, writeTree } from "../helpers/tmp-project.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";

const json = { "content-type": "application/json", connection: "close" };
let cwd: string;
let server: CliHandle;
let base: string;

beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), "kaygraph-"));
  await writeTree(cwd, {
    "package.json": PACKAGE_JSON,
    "graphs/echo.ts": ECHO_GRAPH,
    "public/index.html": "<h1>page</h1>",
    "public/inner/ok.txt": "inside",
    "outside.txt": "SECRET-OUTSIDE-THE-ROOT",
    "kaygraph.config.json": { server: { static: "public", maxJsonDepth: 64 }, tasks: { concurrency: 2 }, log: { level: "info" } },
  });
  await linkPackages(cwd);
  symlinkSync(path.join(cwd, "outside.txt"), path.join(cwd, "public", "leak.txt"));
  symlinkSync("/etc", path.join(cwd, "public", "etc"));
  symlinkSync(path.join(cwd, "public", "inner", "ok.txt"), path.join(cwd, "public", "alias.txt"));
  server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd, autoStop: false });
  base = `http://127.0.0.1:${await server.ready()}`;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (cwd && process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(cwd, { recursive: true, force: true });
});

function nested(depth: number): string {
  return `{"text":"deep","extra":${"[".repeat(depth)}${"]".repeat(depth)}}`;
}

async function post(route: string, body: string) {
  const res = await fetch(`${base}${route}`, { method: "POST", headers: json, body, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Log lines (serve logs JSON) written since `mark`. */
function logLines(mark: number): Array<Record<string, unknown>> {
  return server
    .since(mark)
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("hostile input (issue 15)", () => {
  it("3: JSON nested 100,000 deep is 400 INVALID_JSON naming the limit on sync, /async and WebSocket runs; 63 levels run", async () => {
    for (const route of ["/api/v1/echo", "/api/v1/echo/async", "/api/v1/echo/stream"]) {
      const deep = await post(route, nested(100_000));
      expect(deep.status, route).toBe(400);
      expect(deep.body).toMatchObject({ error_code: "INVALID_JSON", details: { max_depth: 64 } });
      expect(deep.body.error).toContain("64");
    }
    // {"extra": [ x63 ]} is 64 levels: accepted.
    expect((await post("/api/v1/echo", nested(63))).body).toMatchObject({ result: { text: "deep" } });
    expect((await post("/api/v1/echo", nested(64))).status).toBe(400);

    const ws = new WebSocket(`${base.replace("http", "ws")}/ws/deep-client`, { perMessageDeflate: false, maxPayload: 1 << 20 });
    const messages: Array<Record<string, unknown>> = [];
    ws.on("message", (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const input = `{"text":"deep","extra":${"[".repeat(30_000)}${"]".repeat(30_000)}}`;
    ws.send(`{"type":"run","id":"m1","graph":"echo","input":${input}}`);
    ws.send(`{"type":"run","id":"m2","graph":"echo","input":{"text":"fine"}}`);
    await until(() => messages.some((m) => m.id === "m2" && m.type === "result"), "the second run's result");
    expect(messages.find((m) => m.type === "error")).toMatchObject({ error_code: "INVALID_JSON", details: { max_depth: 64 } });
    expect(messages.filter((m) => m.id === "m1" && m.type !== "error")).toEqual([]);
    ws.close();
  });

  it("4: malformed percent-encoding is 400 JSON with the request id, and no stack in the log", async () => {
    const mark = server.mark();
    for (const [method, url] of [
      ["GET", "/tasks/%ZZ"],
      ["DELETE", "/tasks/%C0"],
      ["GET", "/tasks/%E0%A4%A/events"],
    ] as const) {
      const res = await fetch(`${base}${url}`, { method, headers: { connection: "close", "x-request-id": "pct-1" } });
      expect(res.status, url).toBe(400);
      expect(await res.json()).toMatchObject({ error_code: "INVALID_JSON", request_id: "pct-1", error: expect.stringContaining("percent-encoding") });
    }
    await until(() => logLines(mark).filter((l) => l.request_id === "pct-1").length >= 3, "three log lines");
    expect(server.since(mark)).not.toMatch(/URIError|at decode/);
    expect(logLines(mark).filter((l) => l.request_id === "pct-1").map((l) => l.status)).toEqual([400, 400, 400]);
  });

  it("6: DELETE of a running task answers it cancelled; the attempt is fenced and nothing follows the terminal event", async () => {
    const submitted = await post("/api/v1/echo/async", JSON.stringify({ text: "slow", waitMs: 60_000, chunks: 1 }));
    const id = submitted.body.task_id as string;
    await until(async () => ((await (await fetch(`${base}/tasks/${id}`, { headers: { connection: "close" } })).json()) as { status: string }).status === "running", "the task to run");
    const res = await fetch(`${base}/tasks/${id}`, { method: "DELETE", headers: { connection: "close" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: "cancelled", error: { error_code: "CANCELLED" }, result: null });
    // The attempt's signal fired (the graph rejects "aborted"); its outcome changes nothing.
    const again = await fetch(`${base}/tasks/${id}`, { method: "DELETE", headers: { connection: "close" } });
    expect(again.status).toBe(409);
    const events = await (await fetch(`${base}/tasks/${id}/events`, { headers: { connection: "close" }, signal: AbortSignal.timeout(10_000) })).text();
    const types = [...events.matchAll(/"type":"(\w+)"/g)].map((m) => m[1]);
    expect(types.at(-1)).toBe("error");
    expect(types.filter((t) => t === "error" || t === "result")).toHaveLength(1);
    expect(events).toContain('"error_code":"CANCELLED"');
  });

  it("7: secret query parameters are redacted however they are spelt, in HTTP and WebSocket logs; upgrades are logged", async () => {
    const mark = server.mark();
    const secrets = ["s3cr3t-access", "s3cr3t-encoded", "s3cr3t-apikey", "s3cr3t-upper"];
    await fetch(`${base}/health?access_token=${secrets[0]}&tok%65n=${secrets[1]}&api-key=${secrets[2]}&TOKEN=${secrets[3]}&page=2`, { headers: { connection: "close", "x-request-id": "redact-1" } });
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws/logged?tok%65n=${secrets[1]}&access_token=${secrets[0]}`, { headers: { "x-request-id": "ws-accept-1" } });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.close();
    const refused = new WebSocket(`${base.replace("http", "ws")}/nowhere?token=${secrets[3]}`, { headers: { "x-request-id": "ws-refuse-1" } });
    await new Promise((resolve) => refused.once("error", resolve));
    await until(() => logLines(mark).some((l) => l.request_id === "ws-refuse-1"), "the refused upgrade's log line");
    const text = server.since(mark);
    for (const secret of secrets) expect(text).not.toContain(secret);
    const lines = logLines(mark);
    expect(lines.find((l) => l.request_id === "redact-1")?.url).toBe("/health?access_token=[redacted]&tok%65n=[redacted]&api-key=[redacted]&TOKEN=[redacted]&page=2");
    expect(lines.find((l) => l.request_id === "ws-accept-1")).toMatchObject({ status: 101, websocket: "accepted", client_id: "logged", url: "/ws/logged?tok%65n=[redacted]&access_token=[redacted]" });
    expect(lines.find((l) => l.request_id === "ws-refuse-1")).toMatchObject({ status: 404, websocket: "refused", error_code: "NOT_FOUND" });
  });

  it("8: static files are never served from outside the static root, whatever the symlink", async () => {
    const get = async (url: string) => {
      const res = await fetch(`${base}${url}`, { headers: { connection: "close" } });
      return { status: res.status, text: await res.text() };
    };
    expect(await get("/inner/ok.txt")).toEqual({ status: 200, text: "inside" });
    expect(await get("/alias.txt")).toEqual({ status: 200, text: "inside" });
    for (const url of ["/leak.txt", "/etc/passwd", "/etc/hostname", "/%2e%2e/outside.txt", "/inner/%2e%2e/%2e%2e/outside.txt"]) {
      const res = await get(url);
      expect(res.status, url).toBe(404);
      expect(res.text).not.toContain("SECRET-OUTSIDE");
      expect(res.text).not.toContain("root:");
    }
  });
});
