// bench/checkpoints: what durable runs cost, in one process on the embedded SQLite store (run `npm run build`).
//   checkpoint cost  a 10-node graph as background tasks: tasks/s with per-node checkpoints (the default) and
//                    with `checkpoint: false`, measured side by side in rounds (median of the rounds).
//   resume latency   a task interrupted in its 2nd node: store.resume → that node running again (p50/p99),
//                    with a runner claiming as `kaygraph serve` does.
//   node bench/checkpoints.mjs [--tasks 1000] [--rounds 3] [--resumes 200] [--concurrency 32] [--warmup 300]
//   --warmup: tasks of one untimed round of each kind first, so neither kind's first timed round pays for the JIT.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { z } from "zod";
import { Graph, Node, TaskRunner, defineGraph, runDefinition } from "../dist/index.js";
import { SqliteTaskStore } from "../dist/tasks/sqlite-store.js";
import { Step, tenNodeGraph } from "./ten-node-graph.mjs";
import { runnerUntilDone } from "./task-runner-until-done.mjs";
import { fmt, machineLine, median, numberFlag, percentile, printTable } from "./lib.mjs";

const args = process.argv.slice(2);
const TASKS = numberFlag(args, "tasks", 1000);
const ROUNDS = numberFlag(args, "rounds", 3);
const RESUMES = numberFlag(args, "resumes", 200);
const CONCURRENCY = numberFlag(args, "concurrency", 32);
const WARMUP = numberFlag(args, "warmup", 300);

const loaded = tenNodeGraph;

/** The task executor of a server, reduced to the run: from/resume/onCheckpoint as createTaskExecutor passes them. */
const executor = (graphs, onRun) => (task, { signal, emit, checkpoint }) => {
  onRun?.(task);
  return runDefinition(graphs.get(task.graph), task.input, {
    signal,
    onEvent: emit,
    taskId: task.id,
    ...(task.checkpoint !== null && { from: task.checkpoint, resume: task.checkpoint.resume }),
    onCheckpoint: checkpoint,
  });
};

function openStore(dir, name) {
  return SqliteTaskStore.open({ file: path.join(dir, `${name}.db`), maxLost: 3, retentionMs: 3_600_000, maxRetained: 1_000_000, idempotencyTtlMs: 60_000, pollMs: 50 });
}

/** CPU µs of this process (every thread) per task, by graph name: less sensitive to a busy machine than tasks/s. */
const cpuPerTask = new Map([["plain", []], ["durable", []]]);

async function throughput(dir, graph, round, tasks = TASKS, timed = true) {
  const store = openStore(dir, `${graph.name}-${round}`);
  const graphs = new Map([[graph.name, graph]]);
  for (let i = 0; i < tasks; i++) await store.submit({ graph: graph.name, version: 1, input: { text: `t${i}` } });
  const { runner, done: all } = runnerUntilDone(store, { tasks, concurrency: CONCURRENCY, execute: executor(graphs) });
  const started = performance.now();
  const cpu = process.cpuUsage();
  runner.start();
  await all;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (timed) cpuPerTask.get(graph.name).push((used.user + used.system) / tasks);
  await runner.stop({ deadlineMs: 5_000 });
  await store.close();
  return tasks / seconds;
}

async function resumeLatency(dir) {
  const reran = new Map();
  class Ask extends Node {
    post(shared) {
      reran.get(this.context.taskId)?.(performance.now());
      shared.answer = this.interrupt({ question: "ok?" });
    }
  }
  const graph = {
    ...loaded("ask", {}),
    definition: defineGraph({
      name: "ask",
      input: z.object({}),
      output: z.object({ answer: z.unknown() }),
      result: (shared) => ({ answer: shared.answer }),
      graph: () => {
        const first = new Step({ nodeId: "first" });
        first.next(new Ask());
        return new Graph(first);
      },
      shared: (input) => ({ input, log: [], count: 0 }),
    }),
  };
  const store = openStore(dir, "resume");
  const runner = new TaskRunner(store, { concurrency: CONCURRENCY, leaseMs: 30_000, execute: executor(new Map([["ask", graph]])) });
  runner.start();
  const latencies = [];
  for (let i = 0; i < RESUMES; i++) {
    const { task } = await store.submit({ graph: "ask", version: 1, input: {} });
    while ((await store.get(task.id)).status !== "interrupted") await new Promise((resolve) => setTimeout(resolve, 2));
    const again = new Promise((resolve) => reran.set(task.id, resolve));
    const t0 = performance.now();
    await store.resume(task.id, true);
    latencies.push((await again) - t0);
  }
  await runner.stop({ deadlineMs: 5_000 });
  await store.close();
  return latencies;
}

/**
 * Both parts: tasks/s and CPU µs per task with and without checkpoints (medians of ROUNDS), the cost as a share
 * of tasks/s (the budget: ≤ 20 %), and resume latencies in ms.
 */
export async function runCheckpointsBench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-bench-cp-"));
  try {
    const withCp = [];
    const without = [];
    if (WARMUP > 0) {
      await throughput(dir, loaded("plain", { checkpoint: false }), "warmup", WARMUP, false);
      await throughput(dir, loaded("durable", {}), "warmup", WARMUP, false);
    }
    for (let round = 0; round < ROUNDS; round++) {
      without.push(await throughput(dir, loaded("plain", { checkpoint: false }), round));
      withCp.push(await throughput(dir, loaded("durable", {}), round));
    }
    const plain = { rate: median(without), cpu: median(cpuPerTask.get("plain")) };
    const durable = { rate: median(withCp), cpu: median(cpuPerTask.get("durable")) };
    return { settings: { tasks: TASKS, rounds: ROUNDS, warmup: WARMUP, concurrency: CONCURRENCY }, plain, durable, cost: 1 - durable.rate / plain.rate, latencies: await resumeLatency(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { settings, plain, durable, cost, latencies } = await runCheckpointsBench();
  console.log(`checkpoint bench — ${machineLine()}; ${settings.tasks} tasks of a 10-node graph per round, concurrency ${settings.concurrency}, median of ${settings.rounds} rounds${settings.warmup > 0 ? ` after an untimed round of ${settings.warmup} tasks of each` : ""}`);
  printTable(["10-node graph tasks", "tasks/s", "CPU µs/task"], [
    ["checkpoint: false", fmt(plain.rate), fmt(plain.cpu)],
    ["checkpoints (default)", fmt(durable.rate), fmt(durable.cpu)],
    ["cost", `${fmt(cost * 100, 1)} % (budget ≤ 20 %)`, `+${fmt((durable.cpu / plain.cpu - 1) * 100, 1)} %`],
  ]);
  printTable(["resume → node runs again", "ms"], [
    ["p50", fmt(percentile(latencies, 50), 2)],
    ["p99", fmt(percentile(latencies, 99), 2)],
  ]);
}
