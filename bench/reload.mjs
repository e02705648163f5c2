// bench/reload: (1) median time from a file write to the new code answering, over 20 edits under
// `kaygraph dev`; (2) throughput of `serve --workers 2` vs `--workers 1` on a CPU-bound graph.
//   node bench/reload.mjs [--edits 20] [--pause 1000] [--duration 5] [--reload-only]
// --reload-only skips part (2).
import autocannon from "autocannon";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fmt, machineLine, median, numberFlag, percentile } from "./lib.mjs";
import { benchDir, root, startKaygraph, startServer } from "./servers.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => numberFlag(args, name, dflt);
const EDITS = opt("edits", 20);
// Pause between edits: a person saves seconds apart; 0 measures back-to-back saves.
const PAUSE = opt("pause", 1000);
const DURATION = opt("duration", 5);
const RELOAD_ONLY = args.includes("--reload-only");

const graphSource = (answer) => `import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
class Answer extends Node { post(shared) { shared.output = { answer: ${JSON.stringify(answer)} }; } }
export default defineGraph({ name: "answer", input: z.object({}), output: z.object({ answer: z.string() }), graph: () => new Graph(new Answer()) });
`;

async function answer(base) {
  try {
    const res = await fetch(`${base}/api/v1/answer`, { method: "POST", headers: { connection: "close" }, signal: AbortSignal.timeout(5_000) });
    const got = res.ok ? (await res.json()).result.answer : undefined;
    if (process.env.KAYGRAPH_RELOAD_TRACE === "1") process.stderr.write(`kaygraph-trace ${(performance.timeOrigin + performance.now()).toFixed(1)} bench got ${got}\n`);
    return got;
  } catch (error) {
    if (error?.name === "TimeoutError") process.stderr.write("reload bench: a request got no answer in 5 s\n");
    return undefined; // between workers a request may fail; the loop asks again
  }
}

/** Edits a graph `EDITS` times under `kaygraph dev`; returns ms from each write to the new answer. */
export async function measureReload() {
  // A project inside the repo tree, so `import "kaygraph"` resolves to this checkout.
  const dir = mkdtempSync(path.join(benchDir, ".reload-"));
  mkdirSync(path.join(dir, "graphs"), { recursive: true });
  writeFileSync(path.join(dir, "graphs/answer.ts"), graphSource("v0"));
  const dev = await startServer([path.join(root, "bin/kaygraph.js"), "dev", "--cwd", dir, "--port", "0", "--log-level", "warn"], { readyPattern: /kaygraph: ready port=(\d+)/ });
  const base = `http://127.0.0.1:${dev.port}`;
  const times = [];
  try {
    await dev.waitFor("kaygraph: watcher ready");
    for (let i = 1; i <= EDITS; i++) {
      await new Promise((r) => setTimeout(r, PAUSE));
      const t0 = performance.now();
      if (process.env.KAYGRAPH_RELOAD_TRACE === "1") process.stderr.write(`kaygraph-trace ${(performance.timeOrigin + t0).toFixed(1)} bench write v${i}\n`);
      writeFileSync(path.join(dir, "graphs/answer.ts"), graphSource(`v${i}`));
      const deadline = Date.now() + 30_000;
      while ((await answer(base)) !== `v${i}`) if (Date.now() > deadline) throw new Error(`edit ${i} never answered`);
      times.push(performance.now() - t0);
      if (process.env.KAYGRAPH_RELOAD_TRACE === "1") process.stderr.write(`kaygraph-trace ${(performance.timeOrigin + performance.now()).toFixed(1)} bench answered v${i}\n`);
    }
  } finally {
    await dev.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}


/** req/s of the CPU-bound graph with `workers` workers. */
async function cpuThroughput(workers) {
  const server = await startKaygraph(["--workers", String(workers)], { project: path.join(benchDir, "project-cpu") });
  try {
    const run = () =>
      new Promise((resolve, reject) =>
        autocannon(
          { url: `http://127.0.0.1:${server.port}/api/v1/burn`, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ rounds: 2_000_000 }), connections: 8, duration: DURATION },
          (e, r) => (e ? reject(e) : resolve(r)),
        ),
      );
    await run();
    const r = await run();
    return r.requests.average;
  } finally {
    await server.stop();
  }
}

export async function runReloadBench({ reloadOnly = false } = {}) {
  const times = await measureReload();
  const reload = { p50: median(times), p90: percentile(times, 90), max: Math.max(...times), times };
  if (reloadOnly) return { reload };
  const one = await cpuThroughput(1);
  const two = await cpuThroughput(2);
  return { reload, workers: { one, two, ratio: two / one } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`reload benchmark — ${machineLine()}; ${EDITS} edits, ${PAUSE} ms apart; ${os.cpus().length} cores`);
  const r = await runReloadBench({ reloadOnly: RELOAD_ONLY });
  console.log(`write → new code answering: p50 ${fmt(r.reload.p50)} ms, p90 ${fmt(r.reload.p90)} ms, max ${fmt(r.reload.max)} ms (budget p50 ≤ 200 ms, p90 ≤ 300 ms)`);
  if (r.workers) console.log(`CPU-bound graph: --workers 1 ${fmt(r.workers.one)} req/s, --workers 2 ${fmt(r.workers.two)} req/s, ratio ${fmt(r.workers.ratio, 2)} (ideal 2.0 on 2 cores)`);
}
