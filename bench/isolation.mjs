// bench/isolation: what running graphs in worker threads (`execution: "thread"`, the default) costs and buys,
// against `execution: "inline"` and a bare Express 5 app running the same graph. Three measures, every side in
// the same run, in rotation:
//   (a) req/s of the echo graph: thread vs inline vs bare Express (bench/http.mjs's harness and sides);
//   (b) the echo graph's req/s and p50/p99 while another graph on the same server misbehaves, back to back:
//       `hog` (busy 250 ms, then answers) and `spin` (`for (;;) {}` with `timeoutMs: 1000`), thread vs inline;
//   (c) the per-run cost of the thread hop: one request at a time, wall µs and server CPU µs per run.
// Prints the ratios and the budgets (thread ≥ 0.80x bare Express, inline ≥ 0.85x).
//   node bench/isolation.mjs [--rounds 3] [--duration 5] [--connections 50] [--sequential 1000] [--only a]
import autocannon from "autocannon";
import http from "node:http";
import path from "node:path";
import { fmt, machineLine, median, numberFlag, percentile, printTable, treeCpuMs } from "./lib.mjs";
import { benchDir, startKaygraph } from "./servers.mjs";
import { SIDES, runHttpBench } from "./http.mjs";

const args = process.argv.slice(2);
const ROUNDS = numberFlag(args, "rounds", 3);
const DURATION = numberFlag(args, "duration", 5);
/** Connections of the echo load in (b): fewer than (a), so latency shows the neighbour, not the queue. */
const NEIGHBOUR_CONNECTIONS = numberFlag(args, "neighbour-connections", 10);
const SEQUENTIAL = numberFlag(args, "sequential", 1000);
const HOG_MS = 250;
/** The watchdog in (b): an inline worker blocked this long (s) is killed and replaced. */
const WORKER_TIMEOUT = 3;
const BODY = JSON.stringify({ text: "hello graph", n: 41 });
const ISOLATION_PROJECT = path.join(benchDir, "project-isolation");

export const BUDGETS = { thread: 0.8, inline: 0.85 };

const MODES = ["thread", "inline"];
const serve = (mode, flags = [], project) => startKaygraph(flags, { env: { KAYGRAPH_EXECUTION: mode }, ...(project && { project }) });

/** (a) */
export async function runThroughput() {
  const express = SIDES.find((s) => s.name === "bare Express 5");
  const sides = [express, ...MODES.map((mode) => ({ name: `kaygraph serve, execution: ${mode}`, mode, start: () => serve(mode) }))];
  const rows = await runHttpBench(sides);
  const base = rows[0];
  // Ratios per round (the sides of one round ran minutes apart at most), then the median over rounds.
  return rows.map((row, i) => ({ ...row, mode: sides[i].mode, ratio: median(row.samples.map((s, round) => s.rps / base.samples[round].rps)) }));
}

function autocannonRun(port, connections, duration) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}/api/v1/echo`, method: "POST", headers: { "content-type": "application/json" }, body: BODY, connections, duration, timeout: 10 },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** Posts `graph` back to back (one in flight) until stopped; counts the answers by status. */
function neighbour(port, graph, body) {
  const counts = {};
  let stopped = false;
  const controller = new AbortController();
  const loop = (async () => {
    while (!stopped) {
      let key;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/${graph}`, { method: "POST", headers: { "content-type": "application/json" }, body, signal: controller.signal });
        await res.arrayBuffer();
        key = String(res.status);
      } catch {
        key = stopped ? undefined : "error";
        // The worker is being replaced: give it a moment instead of a hot loop of refused connections.
        if (!stopped) await new Promise((r) => setTimeout(r, 50));
      }
      if (key) counts[key] = (counts[key] ?? 0) + 1;
    }
  })();
  return {
    async stop() {
      stopped = true;
      controller.abort();
      await loop;
      return counts;
    },
  };
}

const NEIGHBOURS = [
  { name: "alone", graph: undefined },
  { name: `hog (busy ${HOG_MS} ms, answers 200)`, graph: "hog", body: JSON.stringify({ ms: HOG_MS }) },
  { name: "spin (for (;;) {}, timeoutMs 1000)", graph: "spin", body: "{}" },
];

/** (b) */
export async function runNeighbours() {
  const cases = NEIGHBOURS.flatMap((n) => MODES.map((mode) => ({ ...n, mode, key: `${mode} / ${n.name}`, samples: [] })));
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases.map((_, i) => cases[(i + round) % cases.length])) {
      const server = await serve(c.mode, ["--worker-timeout", String(WORKER_TIMEOUT)], ISOLATION_PROJECT);
      try {
        await autocannonRun(server.port, NEIGHBOUR_CONNECTIONS, 2); // warm-up, discarded
        const other = c.graph ? neighbour(server.port, c.graph, c.body) : undefined;
        const r = await autocannonRun(server.port, NEIGHBOUR_CONNECTIONS, DURATION);
        const counts = (await other?.stop()) ?? {};
        c.samples.push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: r.errors + r.timeouts + r.non2xx, ok: r.requests.total, neighbour: counts });
      } finally {
        await server.stop();
      }
    }
  }
  return cases.map((c) => ({
    mode: c.mode,
    name: c.name,
    rps: median(c.samples.map((s) => s.rps)),
    p50: median(c.samples.map((s) => s.p50)),
    p99: median(c.samples.map((s) => s.p99)),
    failed: median(c.samples.map((s) => s.failed)),
    neighbour: c.samples.map((s) => Object.entries(s.neighbour).map(([k, v]) => `${v}×${k}`).join(" ") || "—"),
  }));
}

/** One POST of the echo graph over `agent`; resolves with the wall time in µs. */
function postOnce(port, agent) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request({ host: "127.0.0.1", port, path: "/api/v1/echo", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve((performance.now() - t0) * 1000) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(BODY);
  });
}

/** (c): both servers up at once, blocks of sequential requests alternating between them. */
export async function runHop() {
  const servers = {};
  for (const mode of MODES) servers[mode] = await serve(mode);
  const agents = Object.fromEntries(MODES.map((m) => [m, new http.Agent({ keepAlive: true, maxSockets: 1 })]));
  const walls = { thread: [], inline: [] };
  const cpu = { thread: [], inline: [] };
  try {
    for (const mode of MODES) for (let i = 0; i < 200; i++) await postOnce(servers[mode].port, agents[mode]); // warm-up
    const block = Math.max(50, Math.round(SEQUENTIAL / 10));
    for (let done = 0, turn = 0; done < SEQUENTIAL * 2; turn++) {
      const mode = MODES[turn % 2];
      const pid = servers[mode].child.pid;
      const cpu0 = treeCpuMs(pid);
      for (let i = 0; i < block; i++) walls[mode].push(await postOnce(servers[mode].port, agents[mode]));
      cpu[mode].push(((treeCpuMs(pid) - cpu0) * 1000) / block);
      done += block;
    }
  } finally {
    for (const agent of Object.values(agents)) agent.destroy();
    await Promise.all(Object.values(servers).map((s) => s.stop()));
  }
  const row = (mode) => ({ mode, p50: percentile(walls[mode], 50), p99: percentile(walls[mode], 99), cpuUs: median(cpu[mode]) });
  const [thread, inline] = MODES.map(row);
  return { thread, inline, wallUs: thread.p50 - inline.p50, cpuUs: thread.cpuUs - inline.cpuUs, requests: walls.thread.length };
}

export async function runIsolationBench() {
  const throughput = await runThroughput();
  // `--only a`: the throughput part alone (the budgets), for a quick check.
  const only = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
  const neighbours = only === "a" ? [] : await runNeighbours();
  const hop = only === "a" ? undefined : await runHop();
  const ratio = (mode) => throughput.find((r) => r.mode === mode).ratio;
  return {
    throughput,
    neighbours,
    hop,
    budgets: MODES.map((mode) => ({ name: `HTTP with execution: ${mode} ≥ ${fmt(BUDGETS[mode], 2)}x bare Express`, value: ratio(mode), ok: ratio(mode) >= BUDGETS[mode] })),
    settings: { rounds: ROUNDS, duration: DURATION, connections: numberFlag(args, "connections", 50), neighbourConnections: NEIGHBOUR_CONNECTIONS, sequential: SEQUENTIAL, hogMs: HOG_MS, workerTimeout: WORKER_TIMEOUT },
  };
}

/** The three tables as { headers, cells }, for the console and BENCHMARKS.md. */
export function isolationTables(result) {
  const { throughput, neighbours, hop } = result;
  return {
    throughput: {
      headers: ["server", "req/s", "p50 ms", "p99 ms", "server CPU µs/req", "÷ bare Express (per round)"],
      cells: throughput.map((r) => [r.name, fmt(r.rps), fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.cpuUs), `${fmt(r.ratio, 2)}x`]),
    },
    neighbours: {
      headers: ["execution", "other graph, back to back", "echo req/s", "echo p50 ms", "echo p99 ms", "echo failed", "other graph's answers (per round)"],
      cells: neighbours.map((r) => [r.mode, r.name, fmt(r.rps), fmt(r.p50, 1), fmt(r.p99, 1), fmt(r.failed), r.neighbour.join("; ")]),
    },
    hop: {
      headers: ["execution", "wall p50 µs", "wall p99 µs", "server CPU µs/run"],
      cells: hop === undefined ? [] : [hop.thread, hop.inline].map((r) => [r.mode, fmt(r.p50), fmt(r.p99), fmt(r.cpuUs)]).concat([["thread − inline", fmt(hop.wallUs), "", fmt(hop.cpuUs)]]),
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runIsolationBench();
  const t = isolationTables(result);
  const s = result.settings;
  console.log(`run isolation — ${machineLine()}; median of ${s.rounds} rounds, sides in rotation`);
  console.log(`\n(a) echo graph, ${s.connections} connections, ${s.duration} s per side per round`);
  printTable(t.throughput.headers, t.throughput.cells);
  console.log(`\n(b) echo graph (${s.neighbourConnections} connections, ${s.duration} s) while another graph runs back to back; serve --workers 1 --worker-timeout ${s.workerTimeout}`);
  printTable(t.neighbours.headers, t.neighbours.cells);
  console.log(`\n(c) one request at a time, ${result.hop?.requests ?? 0} per side in alternating blocks`);
  printTable(t.hop.headers, t.hop.cells);
  console.log();
  for (const b of result.budgets) console.log(`${b.ok ? "ok  " : "MISS"} ${b.name}: ${fmt(b.value, 2)}x`);
}
