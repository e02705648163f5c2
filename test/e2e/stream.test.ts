import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { tmpProject } from "../helpers/tmp-project.js";
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

const project = () => tmpProject({ "package.json": PACKAGE_JSON, "graphs/tokens.ts": TOKENS_GRAPH, "kaygraph.config.json": { log: { level: "warn" } } });

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
