// bench/tasks: background-task throughput (tasks/second) and submit→complete latency (p50/p99, from each
// task's created_at/completed_at) for a trivial graph: SQLite vs Redis, --workers 1 vs 2, in one run.
//   node bench/tasks.mjs [--tasks 500] [--submitters 8]
import { randomUUID } from "node:crypto";
import path from "node:path";
import { Redis } from "ioredis";
import { fmt, machineLine, numberFlag, percentile, printTable } from "./lib.mjs";
import { benchDir, startKaygraph } from "./servers.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => numberFlag(args, name, dflt);
const TASKS = opt("tasks", 500);
const SUBMITTERS = opt("submitters", 8);
const REDIS_URL = process.env.KAYGRAPH_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

async function submitAll(base) {
  let next = 0;
  const ids = [];
  const one = async () => {
    while (next < TASKS) {
      const n = next++;
      const res = await fetch(`${base}/api/v1/echo/async`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `t${n}`, n }) });
      if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
      ids.push((await res.json()).task_id);
    }
  };
  await Promise.all(Array.from({ length: SUBMITTERS }, one));
  return ids;
}

async function waitAll(base, ids) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const page = await (await fetch(`${base}/tasks?status=completed&limit=1`)).json();
    // Count completions cheaply: poll the records of the last submitted tasks only.
    const tail = await Promise.all(ids.slice(-20).map(async (id) => (await (await fetch(`${base}/tasks/${id}`)).json()).status));
    if (page.tasks.length > 0 && tail.every((s) => s === "completed")) break;
    if (Date.now() > deadline) throw new Error("tasks did not complete in time");
    await new Promise((r) => setTimeout(r, 100));
  }
  const records = [];
  for (let i = 0; i < ids.length; i += 50) records.push(...(await Promise.all(ids.slice(i, i + 50).map(async (id) => (await fetch(`${base}/tasks/${id}`)).json()))));
  const pending = records.filter((r) => r.status !== "completed");
  if (pending.length) throw new Error(`${pending.length} tasks not completed`);
  return records;
}

async function measure({ workers, redis }) {
  const prefix = `kg-bench-${randomUUID().slice(0, 8)}`;
  const env = redis ? { KAYGRAPH_REDIS_URL: REDIS_URL, KAYGRAPH_REDIS_PREFIX: prefix } : {};
  const dir = path.join(benchDir, "project");
  // A fresh SQLite file per run.
  const db = path.join(dir, ".kaygraph", `bench-${prefix}.db`);
  const server = await startKaygraph(["--workers", String(workers)], { env: { ...env, KAYGRAPH_DATABASE: db } });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const ids = await submitAll(base);
    const records = await waitAll(base, ids);
    const created = records.map((r) => Date.parse(r.created_at));
    const completed = records.map((r) => Date.parse(r.completed_at));
    const latency = records.map((_, i) => completed[i] - created[i]);
    const seconds = (Math.max(...completed) - Math.min(...created)) / 1000;
    return { name: `${redis ? "Redis" : "SQLite"}, --workers ${workers}`, rate: records.length / seconds, p50: percentile(latency, 50), p99: percentile(latency, 99) };
  } finally {
    await server.stop();
    if (redis) await cleanRedis(prefix);
    const { rmSync } = await import("node:fs");
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${db}${suffix}`, { force: true });
  }
}

async function cleanRedis(prefix) {
  const redis = new Redis(REDIS_URL);
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    if (keys.length) await redis.unlink(...keys);
  } while (cursor !== "0");
  redis.disconnect();
}

export async function runTasksBench() {
  const rows = [];
  for (const redis of [false, true]) for (const workers of [1, 2]) rows.push(await measure({ workers, redis }));
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`tasks benchmark — ${machineLine()}; ${TASKS} tasks of a trivial graph, ${SUBMITTERS} concurrent submitters; tasks.concurrency 4 per process`);
  const rows = await runTasksBench();
  printTable(["store, workers", "tasks/s", "submit→complete p50 ms", "p99 ms"], rows.map((r) => [r.name, fmt(r.rate, 0), fmt(r.p50), fmt(r.p99)]));
}
