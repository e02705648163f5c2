// bench/checkpoint-frames: what a durable run writes to SQLite's WAL, counted rather than timed (run `npm run build`).
//   The same 10-node graph as bench/checkpoints.mjs, as background tasks on a fresh embedded store whose WAL is
//   never checkpointed during the run, with per-node checkpoints and with `checkpoint: false`: group commits per
//   task, WAL frames (4 KB pages) per commit and per task, and which b-tree each frame belongs to (SQLite's dbstat).
//   Frames and commits do not depend on the machine's load, so a change to what a node's write touches can be
//   compared on a busy machine, where the tasks/s of bench/checkpoints.mjs swing by tens of percent.
//   node bench/checkpoint-frames.mjs [--tasks 1000] [--concurrency 32]
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runDefinition } from "../dist/index.js";
import { runnerUntilDone } from "./task-runner-until-done.mjs";
import { SqliteTaskStore } from "../dist/tasks/sqlite-store.js";
import { tenNodeGraph } from "./ten-node-graph.mjs";
import { fmt, machineLine, numberFlag, printTable } from "./lib.mjs";

const args = process.argv.slice(2);
const TASKS = numberFlag(args, "tasks", 1000);
const CONCURRENCY = numberFlag(args, "concurrency", 32);
const PAGE = 4096;
const FRAME_HEADER = 24;
const WAL_HEADER = 32;

const loaded = tenNodeGraph;

/** Page numbers of the WAL frames written from byte `from` on. */
function framePages(wal, from) {
  const pages = [];
  for (let at = Math.max(from, WAL_HEADER); at + FRAME_HEADER + PAGE <= wal.length; at += FRAME_HEADER + PAGE) pages.push(wal.readUInt32BE(at));
  return pages;
}

async function measure(dir, graph) {
  const file = path.join(dir, `${graph.name}.db`);
  // No WAL checkpoint during the run (neither the thread nor SQLite's own), so the WAL keeps every frame written.
  const store = SqliteTaskStore.open({ file, maxLost: 3, retentionMs: 3_600_000, maxRetained: 1_000_000, idempotencyTtlMs: 60_000, pollMs: 50, walCheckpointer: { startAfterCommits: Number.MAX_SAFE_INTEGER } });
  // (Diagnostics reach into the store: its own connection and its group commit's counters.)
  const { db, writes } = store;
  db.pragma("wal_autocheckpoint = 0");
  for (let i = 0; i < TASKS; i++) await store.submit({ graph: graph.name, version: 1, input: { text: `t${i}` } });
  const walFrom = statSync(`${file}-wal`).size;
  const commitsFrom = writes.stats.commits;
  const { runner, done } = runnerUntilDone(store, {
    tasks: TASKS,
    concurrency: CONCURRENCY,
    execute: (task, { signal, emit, checkpoint }) => runDefinition(graph, task.input, { signal, onEvent: emit, taskId: task.id, onCheckpoint: checkpoint }),
  });
  runner.start();
  await done;
  await runner.stop({ deadlineMs: 5_000 });
  const commits = writes.stats.commits - commitsFrom;
  const owners = new Map(db.prepare("SELECT pageno, name, pagetype FROM dbstat").all().map((r) => [r.pageno, r.pageno === 1 ? "page 1 (header, schema)" : `${r.name} ${r.pagetype}`]));
  const byTree = new Map();
  const pages = framePages(readFileSync(`${file}-wal`), walFrom);
  for (const page of pages) {
    const owner = owners.get(page) ?? "other (freed since)";
    byTree.set(owner, (byTree.get(owner) ?? 0) + 1);
  }
  await store.close();
  return { commits, frames: pages.length, byTree };
}

const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-bench-frames-"));
try {
  const durable = await measure(dir, loaded("durable", {}));
  const plain = await measure(dir, loaded("plain", { checkpoint: false }));
  console.log(`checkpoint frames — ${machineLine()}; ${TASKS} tasks of a 10-node graph, concurrency ${CONCURRENCY}, WAL frames of the run (submits excluded)`);
  const row = (name, m) => [name, fmt(m.commits / TASKS, 3), fmt(m.frames / m.commits, 2), fmt(m.frames / TASKS, 2)];
  printTable(["10-node graph tasks", "commits/task", "frames/commit", "frames/task"], [row("checkpoint: false", plain), row("checkpoints (default)", durable)]);
  const trees = [...new Set([...durable.byTree.keys(), ...plain.byTree.keys()])].sort((a, b) => (durable.byTree.get(b) ?? 0) - (durable.byTree.get(a) ?? 0));
  printTable(["b-tree", "frames/task (false)", "frames/task (checkpoints)", "frames/commit (checkpoints)"], trees.map((tree) => [tree, fmt((plain.byTree.get(tree) ?? 0) / TASKS, 2), fmt((durable.byTree.get(tree) ?? 0) / TASKS, 2), fmt((durable.byTree.get(tree) ?? 0) / durable.commits, 2)]));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
