// bench/thread-start: what a run thread costs to start, in one process: wall time until it has loaded the
// graphs and said ready, the process's CPU time for it, and the RSS it adds; against a bare worker thread
// (empty script). Then the replacement of a thread terminated under a spinning run: from the terminate to the
// replacement ready. And `kaygraph serve` with 2 run threads vs `execution: "inline"` (no threads): time to
// the ready line and the process tree's CPU time by then.
//   node bench/thread-start.mjs [--rounds 5] [--before <dir>]   (needs `npm run build`; Linux for CPU/RSS)
// --before <dir>: another build of the package (a copy with its own dist/, bin/, bench/ and a node_modules
// link) measured in the same run, in rotation, as extra rows.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fmt, machineLine, median, numberFlag, printTable, treeCpuMs } from "./lib.mjs";
import { benchDir, root, startServer } from "./servers.mjs";

const args = process.argv.slice(2);
const ROUNDS = numberFlag(args, "rounds", 5);
const BEFORE = args.includes("--before") ? path.resolve(args[args.indexOf("--before") + 1]) : undefined;
const PROJECT = path.relative(root, path.join(benchDir, "project-isolation"));
const files = (dir) => ["echo.ts", "hog.ts", "spin.ts"].map((f) => path.join(dir, PROJECT, "graphs", f));
const EMPTY = new URL("data:text/javascript,import { parentPort } from 'node:worker_threads'; parentPort.postMessage({ type: 'ready' });");

const rssMb = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]) / 1024;
const cpuMs = () => {
  const u = process.cpuUsage(); // the whole process: every thread
  return (u.user + u.system) / 1000;
};

/** Starts a pool of `size` threads on `script`; returns wall ms to ready, CPU ms, RSS MB added (after a GC-free settle). */
async function startPool(kind, size) {
  const { ThreadPool } = await import(path.join(kind.root, "dist/runs/threads/pool.js"));
  const rss0 = rssMb();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const pool = new ThreadPool({ size, script: kind.script, workerData: { files: files(kind.root), root: path.join(kind.root, PROJECT) }, resourceLimits: { maxOldGenerationSizeMb: 512 } });
  await pool.start();
  const wall = performance.now() - t0;
  const cpu = cpuMs() - cpu0;
  await new Promise((r) => setTimeout(r, 200)); // let the threads finish their start-up work before reading RSS
  const rss = rssMb() - rss0;
  return { pool, wall, cpu, rss };
}

/** Terminates a thread of a started pool and times its replacement until ready. */
async function replacement(pool) {
  const threads = pool.threads; // the pool's own list (private in TypeScript)
  const old = threads[0];
  const cpu0 = cpuMs();
  const t0 = performance.now();
  old.terminate("bench");
  const fresh = threads[0];
  if (fresh === old) throw new Error("the pool did not replace the thread");
  await fresh.ready;
  return { wall: performance.now() - t0, cpu: cpuMs() - cpu0 };
}

export async function runThreadStartBench() {
  const entry = (dir) => new URL(`file://${path.join(dir, "dist/runs/threads/thread-entry.js")}`);
  const kinds = [
    { name: "bare worker thread (empty script)", script: EMPTY, root },
    { name: "run thread (loads the 3 graphs)", script: entry(root), root, run: true },
    ...(BEFORE ? [{ name: "run thread, before", script: entry(BEFORE), root: BEFORE, run: true }] : []),
  ];
  const samples = new Map(kinds.map((k) => [k.name, []]));
  const replaced = new Map(kinds.map((k) => [k.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of round % 2 ? [...kinds].reverse() : kinds) {
      const one = await startPool(kind, 1);
      if (kind.run) replaced.get(kind.name).push(await replacement(one.pool));
      await one.pool.close();
      const two = await startPool(kind, 2);
      await two.pool.close();
      samples.get(kind.name).push({ wall1: one.wall, cpu1: one.cpu, rss1: one.rss, wall2: two.wall, cpu2: two.cpu, rss2: two.rss });
    }
  }
  const threads = kinds.map((k) => {
    const s = samples.get(k.name);
    const m = (key) => median(s.map((x) => x[key]));
    const r = replaced.get(k.name);
    return { name: k.name, wall1: m("wall1"), cpu1: m("cpu1"), rss1: m("rss1"), wall2: m("wall2"), cpu2: m("cpu2"), rss2: m("rss2"), replaceWall: r.length ? median(r.map((x) => x.wall)) : NaN, replaceCpu: r.length ? median(r.map((x) => x.cpu)) : NaN };
  });

  // serve: ready time and CPU with 2 run threads vs inline (no threads), alternating.
  const serveSides = [
    { name: "serve, execution: thread (2 threads)", root, env: { KAYGRAPH_EXECUTION: "thread", KAYGRAPH_THREADS: "2" } },
    { name: "serve, execution: inline", root, env: { KAYGRAPH_EXECUTION: "inline" } },
    ...(BEFORE ? [{ name: "serve, execution: thread (2 threads), before", root: BEFORE, env: { KAYGRAPH_EXECUTION: "thread", KAYGRAPH_THREADS: "2" } }] : []),
  ];
  const serveSamples = new Map(serveSides.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [...serveSides].reverse() : serveSides) {
      const t0 = performance.now();
      const bin = path.join(side.root, "bin/kaygraph.js");
      const server = await startServer([bin, "serve", "--cwd", path.join(side.root, PROJECT), "--port", "0", "--host", "127.0.0.1"], { env: side.env, readyPattern: /kaygraph: ready port=(\d+)/ });
      const wall = performance.now() - t0;
      const cpu = treeCpuMs(server.child.pid);
      await server.stop();
      serveSamples.get(side.name).push({ wall, cpu });
    }
  }
  const serve = serveSides.map((s) => {
    const v = serveSamples.get(s.name);
    return { name: s.name, wall: median(v.map((x) => x.wall)), cpu: median(v.map((x) => x.cpu)) };
  });
  return { threads, serve };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`thread start — ${machineLine()}; median of ${ROUNDS} rounds`);
  const r = await runThreadStartBench();
  printTable(
    ["thread", "1 thread: ready ms", "CPU ms", "RSS MB", "2 threads: ready ms", "CPU ms", "RSS MB", "replacement: ready ms", "CPU ms"],
    r.threads.map((t) => [t.name, fmt(t.wall1), fmt(t.cpu1), fmt(t.rss1, 1), fmt(t.wall2), fmt(t.cpu2), fmt(t.rss2, 1), Number.isNaN(t.replaceWall) ? "" : fmt(t.replaceWall), Number.isNaN(t.replaceCpu) ? "" : fmt(t.replaceCpu)]),
  );
  printTable(["server", "start → ready line ms", "process tree CPU ms"], r.serve.map((s) => [s.name, fmt(s.wall), fmt(s.cpu)]));
}
