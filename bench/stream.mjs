// bench/stream: (1) events per second through WebSocket and SSE for one run emitting 100k small chunks;
// (2) delivery latency of task events (p50/p99, emit → subscriber) when the task runs on another worker
// than the subscriber's, against the same worker and against a direct WebSocket run, all on
// `kaygraph serve --workers 2` (embedded SQLite store) on this machine.
//   node bench/stream.mjs [--chunks 100000] [--rounds 3] [--samples 400]
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { fmt, machineLine, median, numberFlag, percentile, printTable } from "./lib.mjs";
import { root, startKaygraph } from "./servers.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => numberFlag(args, name, dflt);
const CHUNKS = opt("chunks", 100_000);
const ROUNDS = opt("rounds", 3);
const SAMPLES = opt("samples", 400);

const now = () => performance.timeOrigin + performance.now();

// Tokens are emitted in bursts of `burst` with a macrotask between bursts, like a model streaming tokens.
const GRAPH = `import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
const now = () => performance.timeOrigin + performance.now();
class Tokens extends Node {
  prep(shared) { return shared.input; }
  async exec(input) {
    for (let i = 0; i < input.n; i++) {
      this.emit(input.stamp ? { i, t: now(), pid: process.pid } : i);
      if (input.everyMs) await new Promise((r) => setTimeout(r, input.everyMs));
      else if (i % input.burst === input.burst - 1) await new Promise((r) => setImmediate(r));
    }
    return input.n;
  }
  post(shared, _p, n) { shared.output = { count: n }; }
}
export default defineGraph({
  name: "tokens",
  input: z.object({ n: z.number().int(), burst: z.number().int().min(1).default(1000), everyMs: z.number().default(0), stamp: z.boolean().default(false) }),
  output: z.object({ count: z.number() }),
  graph: () => new Graph(new Tokens({ nodeId: "tokens" })),
});
`;

function makeProject() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-bench-stream-"));
  mkdirSync(path.join(dir, "graphs"));
  mkdirSync(path.join(dir, "node_modules"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-stream", private: true, type: "module" }));
  writeFileSync(path.join(dir, "kaygraph.config.json"), JSON.stringify({ log: { level: "warn" }, ws: { messagesPerSecond: 1000, maxBufferedBytes: 512 * 1024 * 1024 } }));
  writeFileSync(path.join(dir, "graphs/tokens.ts"), GRAPH);
  symlinkSync(root, path.join(dir, "node_modules/kaygraph"), "dir");
  symlinkSync(path.join(root, "node_modules/zod"), path.join(dir, "node_modules/zod"), "dir");
  return dir;
}

/** A ws client that routes messages to per-id handlers. */
async function connect(url) {
  const ws = new WebSocket(url);
  const handlers = new Map();
  ws.on("message", (data) => {
    const message = JSON.parse(data);
    handlers.get(message.id)?.(message);
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  let next = 0;
  return {
    ws,
    /** Sends a message and calls `onMessage` for each answer until a terminal one; resolves with the count. */
    op(message, onMessage = () => {}) {
      const id = `op${next++}`;
      return new Promise((resolve, reject) => {
        let count = 0;
        handlers.set(id, (m) => {
          count++;
          onMessage(m);
          if (m.type === "result" || (m.type === "error" && m.seq !== undefined)) {
            handlers.delete(id);
            resolve(count);
          } else if (m.type === "error") reject(new Error(m.error));
        });
        ws.send(JSON.stringify({ ...message, id }));
      });
    },
  };
}

async function wsThroughput(wsBase) {
  const client = await connect(`${wsBase}/ws/bench-throughput`);
  const rates = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const t0 = performance.now();
    const count = await client.op({ type: "run", graph: "tokens", input: { n: CHUNKS } });
    if (count !== CHUNKS + 4) throw new Error(`WS: got ${count} events, expected ${CHUNKS + 4}`);
    if (round > 0) rates.push(count / ((performance.now() - t0) / 1000)); // round 0 warms up
  }
  client.ws.close();
  return median(rates);
}

async function sseThroughput(base) {
  const rates = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const t0 = performance.now();
    const res = await fetch(`${base}/api/v1/tokens/stream`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: CHUNKS }) });
    let count = 0;
    let tail = "";
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      const text = tail + decoder.decode(chunk, { stream: true });
      for (let at = text.indexOf("\nid: "); at >= 0; at = text.indexOf("\nid: ", at + 1)) count++;
      tail = text.slice(-4);
    }
    if (count !== CHUNKS + 4) throw new Error(`SSE: got ${count} events, expected ${CHUNKS + 4}`);
    if (round > 0) rates.push(count / ((performance.now() - t0) / 1000));
  }
  return median(rates);
}

/** Latency of `data` events from emit to this client: a direct run on the socket, and task subscriptions. */
async function latencies(base, wsBase) {
  const direct = [];
  const sameWorker = [];
  const otherWorker = [];
  const input = { n: 50, everyMs: 4, stamp: true };
  const collect = (into) => (m) => {
    if (m.type === "data") into.push(now() - m.chunk.t);
  };
  for (let attempt = 0; attempt < 200 && (otherWorker.length < SAMPLES || sameWorker.length < SAMPLES || direct.length < SAMPLES); attempt++) {
    const client = await connect(`${wsBase}/ws/bench-latency-${attempt}`);
    let mine;
    const run = [];
    await client.op({ type: "run", graph: "tokens", input }, (m) => {
      if (m.type === "data") {
        mine = m.chunk.pid;
        run.push(now() - m.chunk.t);
      }
    });
    if (direct.length < SAMPLES) direct.push(...run);
    const submitted = await fetch(`${base}/api/v1/tokens/async`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(input) });
    const { task_id } = await submitted.json();
    let runner;
    const samples = [];
    await client.op({ type: "subscribe", task_id }, (m) => {
      if (m.type === "data") runner = m.chunk.pid;
      collect(samples)(m);
    });
    // The first events may be stored before the subscription starts: keep only live ones (steady state).
    const live = samples.slice(5);
    if (runner === mine) {
      if (sameWorker.length < SAMPLES) sameWorker.push(...live);
    } else if (otherWorker.length < SAMPLES) otherWorker.push(...live);
    client.ws.close();
  }
  return { direct, sameWorker, otherWorker };
}

/** Runs both measurements on a fresh `serve --workers 2`; returns named figures (also for BENCHMARKS.md). */
export async function runStreamBench() {
  const dir = makeProject();
  const server = await startKaygraph(["--workers", "2", "--log-level", "warn"], { project: dir });
  const base = `http://127.0.0.1:${server.port}`;
  const wsBase = `ws://127.0.0.1:${server.port}`;
  try {
    const ws = await wsThroughput(wsBase);
    const sse = await sseThroughput(base);
    const { direct, sameWorker, otherWorker } = await latencies(base, wsBase);
    const ms = (v) => `${fmt(v, 2)} ms`;
    return [
      { name: `WebSocket events/s (one run, ${fmt(CHUNKS)} chunks)`, value: fmt(ws) },
      { name: `SSE events/s (one run, ${fmt(CHUNKS)} chunks)`, value: fmt(sse) },
      { name: "emit → client, direct WebSocket run, p50 / p99", value: `${ms(percentile(direct, 50))} / ${ms(percentile(direct, 99))}` },
      { name: "emit → subscriber, task on the same worker, p50 / p99", value: `${ms(percentile(sameWorker, 50))} / ${ms(percentile(sameWorker, 99))}` },
      { name: "emit → subscriber, task on the other worker, p50 / p99", value: `${ms(percentile(otherWorker, 50))} / ${ms(percentile(otherWorker, 99))}` },
      { name: "added by cross-worker delivery vs direct, p50 / p99", value: `${ms(percentile(otherWorker, 50) - percentile(direct, 50))} / ${ms(percentile(otherWorker, 99) - percentile(direct, 99))}` },
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`bench/stream — ${machineLine()}`);
  console.log(`kaygraph serve --workers 2; one run emitting ${fmt(CHUNKS)} chunks (bursts of 1000), median of ${ROUNDS} rounds after a warm-up; latency: ${SAMPLES} samples, one event every 4 ms\n`);
  printTable(["measure", "value"], (await runStreamBench()).map((r) => [r.name, r.value]));
}
