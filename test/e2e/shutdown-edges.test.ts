/**
 * Output and shutdown edges of `kaygraph serve` (issue 15): a result or event JSON cannot carry ends every
 * transport clearly (worker thread and inline), and runs still going at the drain deadline are answered 503
 * (sync, with Retry-After) or end with a terminal error event (SSE), while WebSockets close 1001.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { runCli, startCli } from "../helpers/cli.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { tmpProject } from "../helpers/tmp-project.js";

/** A graph that produces what JSON cannot carry (`kind`), as its result or as a data event (`where`). */
const BAD_GRAPH = (name: string, execution: "thread" | "inline") => `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

function make(kind) {
  if (kind === "bigint") return { n: 10n };
  if (kind === "circular") { const a = {}; a.self = a; return a; }
  if (kind === "deep") { let v = 1; for (let i = 0; i < 100000; i++) v = [v]; return v; }
  if (kind === "tojson") return { toJSON() { throw new Error("toJSON exploded"); } };
  return { ok: kind };
}

class Bad extends Node {
  prep(shared) { return shared.input; }
  async exec(input) {
    // Two events in one tick: one only JSON can carry (a function), one only a clone can (a BigInt).
    if (input.kind === "mixed") { this.emit({ ok: true, f() {} }); this.emit({ n: 10n }); }
    else if (input.where === "event") this.emit(make(input.kind));
    return input.where === "result" ? make(input.kind) : { ok: true };
  }
  post(shared, _p, value) { shared.output = value; }
}

export default defineGraph({
  name: "${name}",
  execution: "${execution}",
  input: z.object({ kind: z.string(), where: z.enum(["result", "event"]).default("result") }),
  output: z.any(),
  graph: () => new Graph(new Bad({ nodeId: "bad" })),
});
`;

/**
 * A slow graph: writes \`marker\` once it runs, then waits \`waitMs\` — watching its signal, or (stubborn) not
 * at all, so only the drain's own 503 can answer it.
 */
const SLOW_GRAPH = (name: string, execution: "thread" | "inline", stubborn: boolean) => `
import { writeFileSync } from "node:fs";
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

class Slow extends Node {
  prep(shared) { return shared.input; }
  async exec(input) {
    if (input.marker) writeFileSync(input.marker, "running");
    await new Promise((resolve, reject) => {
      const t = setTimeout(resolve, input.waitMs);
      ${stubborn ? "" : 'this.signal.addEventListener("abort", () => { clearTimeout(t); reject(new Error("aborted")); });'}
    });
    return { done: true };
  }
  post(shared, _p, value) { shared.output = value; }
}

export default defineGraph({
  name: "${name}",
  execution: "${execution}",
  input: z.object({ waitMs: z.number(), marker: z.string().optional() }),
  output: z.object({ done: z.boolean() }),
  graph: () => new Graph(new Slow({ nodeId: "slow" })),
});
`;

const json = { "content-type": "application/json", connection: "close" };
const UNSERIALISABLE = "The run's result or one of its events cannot be serialised as JSON; the server log has the details under this request id.";

function eventTypes(text: string): string[] {
  return [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1] as string);
}

function dataOf(text: string): Array<Record<string, unknown>> {
  return [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as Record<string, unknown>);
}

/** Runs `input` over a new WebSocket until its terminal event; every message with the run's id. */
async function wsRun(base: string, graph: string, input: unknown): Promise<Array<Record<string, unknown>>> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/ws/edges`);
  const got: Array<Record<string, unknown>> = [];
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  ws.on("message", (data) => got.push(JSON.parse(String(data)) as Record<string, unknown>));
  ws.send(JSON.stringify({ type: "run", id: "m1", graph, input }));
  await until(() => got.some((m) => m.type === "result" || m.type === "error"), `the ${graph} run's terminal event`);
  ws.close();
  return got;
}

describe("unserialisable results and events (issue 15)", () => {
  it("end sync (500), SSE and WebSocket runs (terminal INTERNAL_ERROR) and tasks (failed INTERNAL_ERROR), in threads and inline, without a crash", async () => {
    const cwd = await tmpProject({
      "package.json": PACKAGE_JSON,
      "graphs/bad.ts": BAD_GRAPH("bad", "thread"),
      "graphs/badinline.ts": BAD_GRAPH("badinline", "inline"),
      "kaygraph.config.json": { log: { level: "info" }, tasks: { concurrency: 2 } },
    });
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const mark = server.mark();
    for (const graph of ["bad", "badinline"]) {
      for (const kind of ["bigint", "circular", "deep", "tojson"]) {
        const what = `${graph} ${kind}`;
        // Sync: 500 INTERNAL_ERROR, the DESIGN error body, nothing of the value.
        const sync = await fetch(`${base}/api/v1/${graph}`, { method: "POST", headers: json, body: JSON.stringify({ kind }), signal: AbortSignal.timeout(15_000) });
        expect(sync.status, what).toBe(500);
        expect(await sync.json(), what).toMatchObject({ error_code: "INTERNAL_ERROR", error: UNSERIALISABLE, request_id: expect.any(String) });
        // SSE, as a result and as a data event: the stream's last event is the one INTERNAL_ERROR error.
        for (const where of ["result", "event"]) {
          const res = await fetch(`${base}/api/v1/${graph}/stream`, { method: "POST", headers: json, body: JSON.stringify({ kind, where }), signal: AbortSignal.timeout(15_000) });
          const text = await res.text();
          const types = eventTypes(text);
          expect(types.at(-1), `${what} ${where} SSE: ${types.join(",")}`).toBe("error");
          expect(types.filter((t) => t === "result" || t === "error"), `${what} ${where}`).toHaveLength(1);
          expect(dataOf(text).at(-1), `${what} ${where}`).toMatchObject({ type: "error", error_code: "INTERNAL_ERROR", error: UNSERIALISABLE });
          const seqs = dataOf(text).map((e) => e.seq);
          expect(seqs, `${what} ${where}: seqs without gaps`).toEqual(seqs.map((_, i) => i + 1));
        }
        // WebSocket: the same terminal event, with the client's id.
        const messages = await wsRun(base, graph, { kind, where: kind === "deep" ? "event" : "result" });
        expect(messages.at(-1), what).toMatchObject({ id: "m1", type: "error", error_code: "INTERNAL_ERROR", error: UNSERIALISABLE });
      }
      // Events that each cross to the main thread but not together: the first goes out, the second ends the run.
      const mixed = await fetch(`${base}/api/v1/${graph}/stream`, { method: "POST", headers: json, body: JSON.stringify({ kind: "mixed", where: "event" }), signal: AbortSignal.timeout(15_000) });
      const mixedEvents = dataOf(await mixed.text());
      expect(mixedEvents.filter((e) => e.type === "data"), `${graph} mixed`).toHaveLength(1);
      expect(mixedEvents.at(-1), `${graph} mixed`).toMatchObject({ type: "error", error_code: "INTERNAL_ERROR", error: UNSERIALISABLE });
      expect(mixedEvents.map((e) => e.seq), `${graph} mixed: seqs without gaps`).toEqual(mixedEvents.map((_, i) => i + 1));
      // A background task whose result cannot be stored fails at once with a clear code.
      const submitted = (await (await fetch(`${base}/api/v1/${graph}/async`, { method: "POST", headers: json, body: JSON.stringify({ kind: "bigint" }) })).json()) as { task_id: string };
      let task: Record<string, unknown> = {};
      await until(async () => {
        task = (await (await fetch(`${base}/tasks/${submitted.task_id}`, { headers: json })).json()) as Record<string, unknown>;
        return task.status === "failed";
      }, `the ${graph} task to fail`);
      expect(task).toMatchObject({ status: "failed", attempts: 1, result: null, error: { error_code: "INTERNAL_ERROR", message: UNSERIALISABLE } });
    }
    // Still serving; the log says what happened, and nothing crashed.
    expect((await fetch(`${base}/health`, { headers: json })).status).toBe(200);
    const log = server.since(mark);
    expect(log).not.toMatch(/uncaughtException|worker died|unhandledRejection/);
    expect(log).toMatch(/cannot be serialised as JSON \(Do not know how to serialize a BigInt\)/);
    expect(log).toMatch(/Maximum call stack size exceeded/);
  });
});

describe("kaygraph run, unserialisable result", () => {
  it("is a KG_RUN_FAILED error that says why, not a stack trace", async () => {
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON, "graphs/bad.ts": BAD_GRAPH("bad", "thread") });
    const run = await runCli(["run", "bad", "--input", '{"kind":"bigint"}'], { cwd });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain("KG_RUN_FAILED");
    expect(run.stderr).toContain("cannot be serialised as JSON (Do not know how to serialize a BigInt)");
    expect(run.stderr).not.toMatch(/This is a bug|at JSON\.stringify/);
  });
});

describe("drain deadline (issue 15)", () => {
  it("answers sync runs still going 503 UNAVAILABLE with Retry-After, ends SSE streams with a terminal error event, closes WebSockets 1001", async () => {
    const cwd = await tmpProject({
      "package.json": PACKAGE_JSON,
      "graphs/slow.ts": SLOW_GRAPH("slow", "thread", false),
      "graphs/stubborn.ts": SLOW_GRAPH("stubborn", "inline", true),
      "kaygraph.config.json": { log: { level: "info" }, tasks: { concurrency: 2 } },
    });
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--shutdown-timeout", "1"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const marker = (name: string) => path.join(cwd, `${name}.running`);
    const post = (route: string, body: unknown) => fetch(`${base}${route}`, { method: "POST", headers: json, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });

    // 1. Work that outlasts the deadline: two sync runs (one ignores its signal, inline), a run stream, a task's
    //    event stream and a WebSocket run.
    const syncSlow = post("/api/v1/slow", { waitMs: 60_000, marker: marker("sync-slow") });
    const syncStubborn = post("/api/v1/stubborn", { waitMs: 8_000, marker: marker("sync-stubborn") });
    const stream = post("/api/v1/slow/stream", { waitMs: 60_000, marker: marker("stream") }).then((res) => res.text());
    const { task_id: taskId } = (await (await post("/api/v1/slow/async", { waitMs: 60_000, marker: marker("task") })).json()) as { task_id: string };
    const taskEvents = fetch(`${base}/tasks/${taskId}/events`, { headers: { connection: "close" }, signal: AbortSignal.timeout(30_000) }).then((res) => res.text());
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws/drain`);
    const wsMessages: Array<Record<string, unknown>> = [];
    ws.on("message", (data) => wsMessages.push(JSON.parse(String(data)) as Record<string, unknown>));
    const wsClosed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send(JSON.stringify({ type: "run", id: "w1", graph: "slow", input: { waitMs: 60_000, marker: marker("ws") } }));
    for (const name of ["sync-slow", "sync-stubborn", "stream", "task", "ws"]) await until(() => existsSync(marker(name)), `the ${name} run to start`);

    // 2. SIGTERM: after the 1 s deadline (and the grace), every one of them is told.
    server.kill("SIGTERM");
    for (const [what, pending] of [["signal-aware", syncSlow], ["ignores its signal, inline", syncStubborn]] as const) {
      const res = await pending;
      expect(res.status, what).toBe(503);
      expect(res.headers.get("retry-after"), what).toBe("1");
      expect(await res.json(), what).toMatchObject({ error_code: "UNAVAILABLE", request_id: expect.any(String) });
    }
    const streamed = await stream;
    expect(eventTypes(streamed).at(-1)).toBe("error");
    expect(dataOf(streamed).at(-1)).toMatchObject({ type: "error", error_code: "UNAVAILABLE", seq: dataOf(streamed).length });
    const followed = await taskEvents;
    expect(eventTypes(followed)).toContain("start");
    expect(eventTypes(followed).at(-1)).toBe("error");
    // A notice, not an event of the task: no seq and no id, so a reconnect resumes after the last real event.
    expect(dataOf(followed).at(-1)).toMatchObject({ type: "error", error_code: "UNAVAILABLE" });
    expect(dataOf(followed).at(-1)).not.toHaveProperty("seq");
    expect(followed.trimEnd().split("\n\n").at(-1)).not.toMatch(/^id:/m);
    expect(await wsClosed).toBe(1001);
    expect(wsMessages.some((m) => m.type === "start")).toBe(true);
    expect(await server.exited()).toMatchObject({ exitCode: 0 });
    // Logged as 503s, not as empty 200s.
    const lines = server.output().stdout.split("\n").filter((l) => l.startsWith("{") && l.includes('"url":"/api/v1/'));
    const statuses = lines.map((l) => (JSON.parse(l) as { status?: number; url: string }));
    expect(statuses.filter((s) => s.url === "/api/v1/slow" || s.url === "/api/v1/stubborn").map((s) => s.status)).toEqual([503, 503]);
  });
});
