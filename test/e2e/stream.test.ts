import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { linkPackages, tmpProject, writeTree } from "../helpers/tmp-project.js";
import { openSocket, sseEvents, type Msg, type TestSocket } from "../unit/server/ws-client.js";

/** Emits `n` chunks (`delayMs` apart, with the worker's pid when asked), optionally waits, answers `{ count }`. */
const TOKENS_GRAPH = `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

class Tokens extends Node {
  prep(shared) { return shared.input; }
  async exec(input) {
    for (let i = 0; i < input.n; i++) {
      this.emit(input.withPid ? { i, pid: process.pid, t: Date.now() } : { i });
      if (input.delayMs) await new Promise((resolve) => setTimeout(resolve, input.delayMs));
    }
    if (input.waitMs) {
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, input.waitMs);
        this.signal.addEventListener("abort", () => { clearTimeout(t); reject(new Error("aborted")); });
      });
    }
    return input.n;
  }
  post(shared, _p, n) { shared.output = { count: n }; }
}

export default defineGraph({
  name: "tokens",
  input: z.object({ n: z.number().int().min(0).default(0), delayMs: z.number().int().min(0).default(0), waitMs: z.number().int().min(0).default(0), withPid: z.boolean().default(false) }),
  output: z.object({ count: z.number() }),
  graph: () => new Graph(new Tokens({ nodeId: "tokens" })),
});
`;

const PROJECT_FILES = { "package.json": PACKAGE_JSON, "graphs/tokens.ts": TOKENS_GRAPH, "kaygraph.config.json": { log: { level: "warn" } } };
const project = () => tmpProject(PROJECT_FILES);

async function serve(cwd: string, args: string[] = []) {
  const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2", ...args], { cwd });
  const port = await server.ready();
  const base = `http://127.0.0.1:${port}`;
  const pids = new Set<number>();
  await until(async () => {
    pids.add(((await (await fetch(`${base}/health`, { headers: { connection: "close" } })).json()) as { pid: number }).pid);
    return pids.size >= 2;
  }, "both workers to answer");
  return { server, base, wsBase: `ws://127.0.0.1:${port}`, pids };
}

async function submit(base: string, input: object): Promise<string> {
  const res = await fetch(`${base}/api/v1/tokens/async`, { method: "POST", headers: { "content-type": "application/json", connection: "close" }, body: JSON.stringify(input) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { task_id: string }).task_id;
}

/** The pid of the worker that holds this socket: a run on it reports its own process. */
async function socketPid(socket: TestSocket): Promise<number> {
  socket.send({ type: "run", id: "whoami", graph: "tokens", input: { n: 1, withPid: true } });
  const events = await socket.operation("whoami");
  return (events.find((e) => e.type === "data")!.chunk as { pid: number }).pid;
}

/** What must be identical across transports: order, types, nodes, actions, chunks, result (not ts, run_id, duration). */
const shape = (events: Msg[]) => events.map(({ seq, type, node, action, chunk, result, error_code }) => ({ seq, type, node, action, chunk, result, error_code }));
const inOrder = (events: Msg[]) => expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));

describe("streaming on kaygraph serve --workers 2", () => {
  it("streams 100 tokens over SSE and WebSocket in order, the same sequence `kaygraph run --events` prints", async () => {
    const cwd = await project();
    const { base, wsBase } = await serve(cwd);
    const input = { n: 100 };
    const sse = await sseEvents(await fetch(`${base}/api/v1/tokens/stream`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input) }));
    const socket = await openSocket(`${wsBase}/ws/e2e-tokens`);
    socket.send({ type: "run", id: "t", graph: "tokens", input });
    const ws = await socket.operation("t");
    const cli = await runCli(["run", "tokens", "--input", JSON.stringify(input), "--events"], { cwd });
    expect(cli.exitCode).toBe(0);
    const printed = cli.stdout.trim().split("\n").map((line) => JSON.parse(line) as Msg);

    inOrder(sse);
    expect(sse.filter((e) => e.type === "data").map((e) => (e.chunk as { i: number }).i)).toEqual([...Array(100).keys()]);
    expect(sse.at(-1)).toMatchObject({ type: "result", result: { count: 100 } });
    expect(ws.every((e) => e.id === "t")).toBe(true);
    expect(shape(ws)).toEqual(shape(sse));
    expect(shape(printed)).toEqual(shape(sse));
  });

  it("a subscriber on one worker receives every event, in order, of a task running on the other worker", async () => {
    const cwd = await project();
    const { base, wsBase, pids } = await serve(cwd);
    expect(pids.size).toBe(2);
    // Tasks go to whichever worker claims them first: try until one runs on the other worker than the socket's.
    for (let attempt = 0; attempt < 30; attempt++) {
      const socket = await openSocket(`${wsBase}/ws/e2e-cross-${attempt}`);
      const mine = await socketPid(socket);
      const id = await submit(base, { n: 30, delayMs: 5, withPid: true });
      socket.send({ type: "subscribe", id: "s", task_id: id });
      const events = await socket.operation("s", 30_000);
      const runner = (events.find((e) => e.type === "data")!.chunk as { pid: number }).pid;
      socket.ws.close();
      if (runner === mine) continue;
      expect(pids).toContain(runner);
      expect(pids).toContain(mine);
      inOrder(events);
      expect(events.filter((e) => e.type === "data").map((e) => (e.chunk as { i: number }).i)).toEqual([...Array(30).keys()]);
      expect(events.at(-1)).toMatchObject({ type: "result", id: "s", result: { count: 30 } });
      // Live delivery (a notification between the processes), not the store's once-a-second re-read.
      const lags = socket.messages.flatMap((m, i) => (m.id === "s" && m.type === "data" ? [socket.arrivals[i]! - (m.chunk as { t: number }).t] : [])).sort((a, b) => a - b);
      expect(lags[Math.floor(lags.length / 2)]).toBeLessThan(250);
      return;
    }
    throw new Error("no task ran on the other worker in 30 tries");
  });

  it("resumes after a dropped connection without gap or duplicate: SSE with Last-Event-ID, WebSocket with after_seq", async () => {
    const cwd = await project();
    const { base, wsBase } = await serve(cwd);
    const id = await submit(base, { n: 80, delayMs: 5 });

    const drop = new AbortController();
    const head = await sseEvents(await fetch(`${base}/tasks/${id}/events`, { signal: drop.signal, headers: { connection: "close" } }), (e) => e.seq === 15);
    drop.abort();
    const tail = await sseEvents(await fetch(`${base}/tasks/${id}/events`, { headers: { "last-event-id": "15", connection: "close" } }));
    inOrder([...head, ...tail]);
    expect(tail.at(-1)).toMatchObject({ type: "result", result: { count: 80 } });

    // A second task, live while the socket drops.
    const live = await submit(base, { n: 80, delayMs: 5 });
    const first = await openSocket(`${wsBase}/ws/e2e-resume`);
    first.send({ type: "subscribe", id: "s", task_id: live, after_seq: 0 });
    await first.next((m) => m.id === "s" && (m.seq ?? 0) >= 20);
    first.ws.terminate();
    const got = first.messages.filter((m) => m.id === "s");
    const second = await openSocket(`${wsBase}/ws/e2e-resume`);
    expect(got.at(-1)!.type).not.toBe("result");
    second.send({ type: "subscribe", id: "s", task_id: live, after_seq: got.at(-1)!.seq });
    const rest = await second.operation("s", 30_000);
    inOrder([...got, ...rest]);
    expect(shape([...got, ...rest])).toEqual(shape([...head, ...tail]));
  });

  it("SIGTERM: every WebSocket client gets 1001; a run in flight finishes first; exit 0", async () => {
    const cwd = await project();
    const { server, wsBase, pids } = await serve(cwd, ["--shutdown-timeout", "20"]);
    const sockets: TestSocket[] = [];
    const seen = new Set<number>();
    // Sockets on both workers.
    await until(async () => {
      const socket = await openSocket(`${wsBase}/ws/e2e-term-${sockets.length}`);
      sockets.push(socket);
      seen.add(await socketPid(socket));
      return seen.size === pids.size;
    }, "sockets on both workers");
    const busy = sockets[0]!;
    busy.send({ type: "run", id: "r", graph: "tokens", input: { n: 3, waitMs: 1_000 } });
    await busy.next((m) => m.id === "r" && m.type === "node_start");
    server.kill("SIGTERM");
    const codes = await Promise.all(sockets.map(async (s) => (await s.closed).code));
    expect(codes).toEqual(sockets.map(() => 1001));
    expect(busy.messages.filter((m) => m.id === "r").at(-1)).toMatchObject({ type: "result", result: { count: 3 } });
    expect((await server.exited()).exitCode).toBe(0);
  });
});

/** One `serve` worker process (env: e.g. KAYGRAPH_TASKS_CONCURRENCY); stopped when the test ends unless `autoStop` is false. */
async function serveOne(cwd: string, env: Record<string, string> = {}, autoStop = true) {
  const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "1"], { cwd, env, autoStop });
  const port = await server.ready();
  return { server, base: `http://127.0.0.1:${port}`, wsBase: `ws://127.0.0.1:${port}` };
}

async function taskRecord(base: string, id: string): Promise<Record<string, any>> {
  return (await (await fetch(`${base}/tasks/${id}`, { headers: { connection: "close" } })).json()) as Record<string, any>;
}

describe("WebSocket protocol and task requests on kaygraph serve", () => {
  // One server for these tests (each uses its own client ids), in a project kept until they all ran.
  let target: Awaited<ReturnType<typeof serveOne>>;
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-"));
    await writeTree(dir, PROJECT_FILES);
    await linkPackages(dir);
    target = await serveOne(dir, {}, false);
  });
  afterAll(async () => {
    await target?.server.stop();
    if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(dir, { recursive: true, force: true });
  });

  it("runs two operations at once on one socket, each event carrying its own id", async () => {
    const socket = await openSocket(`${target.wsBase}/ws/e2e-two`);
    socket.send({ type: "run", id: "slow", graph: "tokens", input: { n: 2, waitMs: 30_000 } });
    await socket.next((m) => m.id === "slow" && m.type === "node_start");
    socket.send({ type: "run", id: "fast", graph: "tokens", input: { n: 5 } });
    const fast = await socket.operation("fast");
    // `fast` ran to its end while `slow` was still running on the same socket.
    expect(socket.messages.some((m) => m.id === "slow" && (m.type === "result" || m.type === "error"))).toBe(false);
    inOrder(fast);
    expect(fast.filter((e) => e.type === "data").map((e) => (e.chunk as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);
    expect(fast.at(-1)).toMatchObject({ type: "result", result: { count: 5 } });
    socket.send({ type: "cancel", id: "slow" });
    const slow = await socket.operation("slow");
    inOrder(slow);
    expect(slow.filter((e) => e.type === "data")).toHaveLength(2);
    expect(slow.at(-1)).toMatchObject({ type: "error", error_code: "CANCELLED" });
    expect(socket.messages.every((m) => m.id === "slow" || m.id === "fast")).toBe(true);
  });

  it("answers malformed JSON with an error event and keeps the socket open", async () => {
    const socket = await openSocket(`${target.wsBase}/ws/e2e-malformed`);
    socket.send("{not json");
    expect(await socket.next((m) => m.type === "error")).toMatchObject({ type: "error", error_code: "INVALID_JSON" });
    socket.send({ type: "nonsense", id: "u" });
    expect(await socket.next((m) => m.id === "u")).toMatchObject({ type: "error", error_code: "VALIDATION_ERROR" });
    socket.send({ type: "ping", id: "p" });
    expect(await socket.next((m) => m.id === "p")).toEqual({ type: "pong", id: "p" });
    socket.send({ type: "run", id: "r", graph: "tokens", input: { n: 1 } });
    expect((await socket.operation("r")).at(-1)).toMatchObject({ type: "result", result: { count: 1 } });
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);
  });

  it("closes a socket that sends a message over 64 KiB with 1009; other sockets keep working", async () => {
    const bystander = await openSocket(`${target.wsBase}/ws/e2e-bystander`);
    const socket = await openSocket(`${target.wsBase}/ws/e2e-oversize`);
    socket.send({ type: "run", id: "big", graph: "tokens", input: { n: 1, pad: "x".repeat(70 * 1024) } });
    expect((await socket.closed).code).toBe(1009);
    expect(socket.messages.filter((m) => m.id === "big")).toEqual([]);
    bystander.send({ type: "ping", id: "p" });
    expect(await bystander.next((m) => m.id === "p")).toEqual({ type: "pong", id: "p" });
  });

  it("keeps the X-Request-ID sent to /async as the task's request_id", async () => {
    const res = await fetch(`${target.base}/api/v1/tokens/async`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "e2e-req.42", connection: "close" },
      body: JSON.stringify({ n: 1 }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("x-request-id")).toBe("e2e-req.42");
    const { task_id: id } = (await res.json()) as { task_id: string };
    expect(await taskRecord(target.base, id)).toMatchObject({ id, request_id: "e2e-req.42" });
    await until(async () => (await taskRecord(target.base, id)).status === "completed", "the task to complete");
    expect(await taskRecord(target.base, id)).toMatchObject({ request_id: "e2e-req.42", result: { count: 1 } });
  });
});

describe("tasks run by a separate kaygraph worker process (SQLite)", () => {
  it("a serve subscriber (WebSocket and SSE) receives every event, in order, of a task the worker runs", async () => {
    const cwd = await project();
    // An API-only serve (tasks.concurrency 0): every task is run by the worker process.
    const worker = startCli(["worker", "--concurrency", "1"], { cwd });
    const [{ base, wsBase }] = await Promise.all([serveOne(cwd, { KAYGRAPH_TASKS_CONCURRENCY: "0" }), worker.waitFor("kaygraph: worker ready")]);
    const servePid = ((await (await fetch(`${base}/health`, { headers: { connection: "close" } })).json()) as { pid: number }).pid;
    expect(servePid).not.toBe(worker.pid);

    const socket = await openSocket(`${wsBase}/ws/e2e-worker`);
    const id = await submit(base, { n: 30, delayMs: 5, withPid: true });
    socket.send({ type: "subscribe", id: "s", task_id: id });
    const sse = sseEvents(await fetch(`${base}/tasks/${id}/events`, { headers: { connection: "close" } }));
    const ws = await socket.operation("s");
    const pids = ws.filter((e) => e.type === "data").map((e) => (e.chunk as { pid: number }).pid);
    expect(new Set(pids)).toEqual(new Set([worker.pid]));
    inOrder(ws);
    expect(ws.map((e) => e.type)).toEqual(["start", "node_start", ...Array(30).fill("data"), "node_end", "result"]);
    expect(ws.filter((e) => e.type === "data").map((e) => (e.chunk as { i: number }).i)).toEqual([...Array(30).keys()]);
    expect(ws.at(-1)).toMatchObject({ type: "result", id: "s", result: { count: 30 } });
    expect(shape(await sse)).toEqual(shape(ws));

    worker.kill("SIGTERM");
    expect((await worker.exited()).exitCode).toBe(0);
  });
});

