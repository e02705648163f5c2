// bench/tasks: background-task throughput on a trivial one-node graph, measured from the tasks' own stored
// timestamps after each run (nothing polls while the load runs). Per store (SQLite, Redis) and `--workers N`:
//   sync       the same server's sync runs/s of the same graph (POST /api/v1/echo), the yardstick;
//   submit     POST /async with `tasks.concurrency 0` (accept and store only): tasks created per second;
//   drain      that backlog run by N `kaygraph worker` processes: tasks completed per second;
//   e2e        submit and run on one `serve --workers N`: tasks completed per second while submitters run;
//   half load  the e2e server at half its e2e rate, requests evenly paced (open loop): submit→complete p50/p99
//              (completed_at - created_at).
// Plus a raw BullMQ row (Queue.add from keep-alive loops, N processes with a no-op Worker, same concurrency).
// Rates count the timestamps inside the steady window (the first second of load is warm-up, left out). Before its
// sync, e2e and half-load rows the server is warmed, untimed, by `--warmup` seconds of each route's load (the JIT
// of a fresh process otherwise dominates a few seconds' rows: a served process has been up for a while).
//   node bench/tasks.mjs [--duration 5] [--warmup 5] [--connections 20] [--concurrency 32] [--workers 1,2]
//                        [--stores sqlite,redis]
//                        [--half-rate N]   (the half-load row at N tasks/s instead of half the e2e rate: for A/B runs)
import autocannon from "autocannon";
import { Queue } from "bullmq";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { fmt, machineLine, numberFlag, percentile, printTable, treeCpuMs, unlinkPrefix } from "./lib.mjs";
import { benchDir, root, startKaygraph, startServer } from "./servers.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => numberFlag(args, name, dflt);
const list = (name, dflt) => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? args[at + 1].split(",") : dflt;
};
const DURATION = opt("duration", 5);
const CONNECTIONS = opt("connections", 20);
const CONCURRENCY = opt("concurrency", 32);
const WORKERS = list("workers", ["1", "2"]).map(Number);
const STORES = list("stores", ["sqlite", "redis"]);
/** The half-load row's rate (tasks/s); default half the e2e rate just measured (which varies run to run). */
const HALF_RATE = opt("half-rate", 0);
/** Untimed load on each route before the e2e server's measured rows, seconds (0: none). */
const WARMUP_S = opt("warmup", 5);
const WARMUP_MS = 1000;
const REDIS_URL = process.env.KAYGRAPH_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const PROJECT = path.join(benchDir, "project");
const BODY = JSON.stringify({ text: "hello graph", n: 41 });

/** autocannon against one path for `duration` seconds (DURATION by default); `rate` caps the total requests per second. */
function load(port, urlPath, rate, duration = DURATION) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}${urlPath}`, method: "POST", headers: { "content-type": "application/json" }, body: BODY, connections: CONNECTIONS, duration, ...(rate && { overallRate: Math.max(1, Math.round(rate)) }) },
      (error, result) => {
        if (error) return reject(error);
        if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${urlPath}: ${result.non2xx} non-2xx answers, ${result.errors} errors`));
        resolve(result);
      },
    );
  });
}

/** Runs a load and returns the wall-clock window it covered (ms since epoch). */
async function timedLoad(port, urlPath, rate) {
  const start = Date.now();
  const result = await load(port, urlPath, rate);
  return { start, end: Date.now(), result };
}

/**
 * Open-loop load at an even `rate`: request i is sent at start + i/rate over CONNECTIONS keep-alive sockets,
 * whatever the answers do. (autocannon's `overallRate` is a per-second budget each connection spends at full
 * speed and then waits for the next second: at "half load" that is a full-speed burst half of each second, so
 * what it measures is the burst's backlog, not latency at half load.)
 */
async function pacedLoad(port, urlPath, rate) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  // Per task id: when its request was sent and when its 202 came back (ms since epoch, sub-ms precision).
  const sends = new Map();
  const post = () =>
    new Promise((resolve, reject) => {
      const sentAt = wallNow();
      const req = http.request({ host: "127.0.0.1", port, path: urlPath, method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => {
          if (res.statusCode < 200 || res.statusCode >= 300) return reject(new Error(`${urlPath}: answered ${res.statusCode}`));
          const answer = JSON.parse(text);
          const id = answer.task_id ?? answer.id;
          if (id) sends.set(id, { sentAt, answeredAt: wallNow() });
          resolve();
        });
      });
      req.on("error", reject);
      req.end(BODY);
    });
  const start = Date.now();
  const total = Math.round(rate * DURATION);
  const sent = [];
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    sent.push(post());
  }
  await Promise.all(sent);
  const end = Date.now();
  agent.destroy();
  return { start, end, sends };
}

/** The wall clock with sub-millisecond precision (the stored timestamps are whole ms of the same clock). */
const wallNow = () => performance.timeOrigin + performance.now();

/**
 * Where a half-load task's time goes, from the client's send/answer times and the task's stored stamps (whole
 * ms, so each stage is ±1 ms): request→created (HTTP, validation), created→answered (the submit's group commit
 * and the 202), created→started (commit, wake-up, claim query), started→completed (claim commit, hand-off to the
 * run, the run, the ending's write). p50 of each, in ms.
 */
function stages(records, sends) {
  const rows = records.flatMap((r) => {
    const sent = sends.get(r.id);
    if (!sent) return [];
    const created = Date.parse(r.created_at), started = Date.parse(r.started_at), completed = Date.parse(r.completed_at);
    return [{ toCreated: created - sent.sentAt, toAnswer: sent.answeredAt - created, toStart: started - created, run: completed - started }];
  });
  const p50 = (key) => percentile(rows.map((row) => row[key]), 50);
  return { count: rows.length, toCreated: p50("toCreated"), toAnswer: p50("toAnswer"), toStart: p50("toStart"), run: p50("run") };
}

const getJson = async (url) => (await fetch(url)).json();

/** Waits until the server reports no pending or running task (polled 4×/s, after the load ended). */
async function waitIdle(base, deadlineMs = 600_000) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const [pending, running] = await Promise.all([getJson(`${base}/tasks?status=pending&limit=1`), getJson(`${base}/tasks?status=running&limit=1`)]);
    if (pending.tasks.length === 0 && running.tasks.length === 0) return;
    if (Date.now() > deadline) throw new Error("tasks did not finish in time");
    await sleep(250);
  }
}

/** Every task record created at or after `since` (the list is newest first). */
async function recordsSince(base, since) {
  const out = [];
  let cursor = null;
  for (;;) {
    const page = await getJson(`${base}/tasks?graph=echo&limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    for (const task of page.tasks) {
      if (Date.parse(task.created_at) < since) return out;
      out.push(task);
    }
    if (!page.next_cursor) return out;
    cursor = page.next_cursor;
  }
}

/** Timestamps inside [from, to] per second. */
const perSecond = (stamps, from, to) => stamps.filter((t) => t >= from && t <= to).length / ((to - from) / 1000);
/** The rate over the middle 90 % of a burst of timestamps (a drain has no load window of its own). */
function burstRate(stamps) {
  const sorted = [...stamps].sort((a, b) => a - b);
  const lo = sorted[Math.floor(sorted.length * 0.05)];
  const hi = sorted[Math.ceil(sorted.length * 0.95) - 1];
  return (Math.ceil(sorted.length * 0.95) - Math.floor(sorted.length * 0.05)) / Math.max(1, hi - lo) * 1000;
}
const stamp = (records, field) => records.map((r) => Date.parse(r[field]));

function storeEnv(store) {
  const prefix = `kg-bench-${randomUUID().slice(0, 8)}`;
  const db = path.join(PROJECT, ".kaygraph", `bench-${prefix}.db`);
  const env = { KAYGRAPH_DATABASE: db, KAYGRAPH_TASKS_CONCURRENCY: String(CONCURRENCY), ...(store === "redis" && { KAYGRAPH_REDIS_URL: REDIS_URL, KAYGRAPH_REDIS_PREFIX: prefix }) };
  const cleanup = async () => {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${db}${suffix}`, { force: true });
    if (store === "redis") await cleanRedis(prefix);
  };
  return { env, cleanup };
}

function startWorker(env) {
  return startServer([path.join(root, "bin/kaygraph.js"), "worker", "--cwd", PROJECT], { env, readyPattern: /kaygraph: worker (ready)/ });
}

/** submit, drain: one server that stores tasks without running them, then N workers on the backlog. */
async function submitAndDrain(store, workers) {
  const { env, cleanup } = storeEnv(store);
  const server = await startKaygraph(["--workers", String(workers)], { env: { ...env, KAYGRAPH_TASKS_CONCURRENCY: "0" } });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const cpu0 = treeCpuMs(server.child.pid);
    const submit = await timedLoad(server.port, "/api/v1/echo/async");
    const submitCpu = treeCpuMs(server.child.pid) - cpu0;
    const stored = await recordsSince(base, submit.start);
    const submitRate = perSecond(stamp(stored, "created_at"), submit.start + WARMUP_MS, submit.end);
    const runners = await Promise.all(Array.from({ length: workers }, () => startWorker(env)));
    const runnersCpu = () => runners.reduce((sum, r) => sum + treeCpuMs(r.child.pid), 0);
    let drainCpu;
    try {
      const before = runnersCpu();
      await waitIdle(base);
      drainCpu = runnersCpu() - before;
    } finally {
      await Promise.all(runners.map((r) => r.stop()));
    }
    const done = await recordsSince(base, submit.start);
    if (done.some((r) => r.status !== "completed")) throw new Error(`${store}: ${done.filter((r) => r.status !== "completed").length} drained tasks not completed`);
    return { submitRate, submitCpuMs: submitCpu / stored.length, backlog: done.length, drainRate: burstRate(stamp(done, "completed_at")), drainCpuMs: drainCpu / done.length };
  } finally {
    await server.stop();
    await cleanup();
  }
}

/** sync, e2e, half load: one `serve --workers N` that submits and runs. */
async function endToEnd(store, workers) {
  const { env, cleanup } = storeEnv(store);
  const server = await startKaygraph(["--workers", String(workers)], { env });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const cpu = () => treeCpuMs(server.child.pid);
    if (WARMUP_S > 0) {
      await load(server.port, "/api/v1/echo", 0, WARMUP_S);
      await load(server.port, "/api/v1/echo/async", 0, WARMUP_S);
      await waitIdle(base);
    }
    const cpu0 = cpu();
    const sync = await load(server.port, "/api/v1/echo");
    const cpu1 = cpu();
    const e2e = await timedLoad(server.port, "/api/v1/echo/async");
    await waitIdle(base);
    const cpu2 = cpu();
    const records = await recordsSince(base, e2e.start);
    if (records.some((r) => r.status !== "completed")) throw new Error(`${store}: e2e tasks not completed`);
    const e2eRate = perSecond(stamp(records, "completed_at"), e2e.start + WARMUP_MS, e2e.end);
    const halfRate = HALF_RATE > 0 ? HALF_RATE : e2eRate / 2;
    const half = await pacedLoad(server.port, "/api/v1/echo/async", halfRate);
    await waitIdle(base);
    const halfRecords = (await recordsSince(base, half.start)).filter((r) => Date.parse(r.created_at) >= half.start + WARMUP_MS);
    const latency = halfRecords.map((r) => Date.parse(r.completed_at) - Date.parse(r.created_at));
    return { stages: stages(halfRecords, half.sends), syncRate: sync.requests.average, syncCpuMs: (cpu1 - cpu0) / sync.requests.total, e2eCpuMs: (cpu2 - cpu1) / records.length, e2eRate, halfRate, p50: percentile(latency, 50), p99: percentile(latency, 99) };
  } finally {
    await server.stop();
    await cleanup();
  }
}

/** Raw BullMQ: `workers` processes with a no-op Worker of the same concurrency; jobs added from CONNECTIONS keep-alive loops. */
async function rawBullmq(workers) {
  const prefix = `kg-bench-${randomUUID().slice(0, 8)}`;
  const name = "raw";
  const procs = await Promise.all(Array.from({ length: workers }, () => startServer([path.join(benchDir, "servers/bullmq-noop-worker.mjs"), REDIS_URL, name, prefix, String(CONCURRENCY)])));
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix });
  try {
    const start = Date.now();
    const end = start + DURATION * 1000;
    let n = 0;
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) await queue.add("echo", { text: "hello graph", n: n++ }, { removeOnComplete: false });
    }));
    for (const deadline = Date.now() + 600_000; ; await sleep(250)) {
      const counts = await queue.getJobCounts("wait", "active", "delayed");
      if (counts.wait + counts.active + counts.delayed === 0) break;
      if (Date.now() > deadline) throw new Error("raw BullMQ jobs did not finish in time");
    }
    const jobs = await queue.getJobs(["completed"], 0, -1);
    return { rate: perSecond(jobs.map((j) => j.finishedOn), start + WARMUP_MS, end), latency: jobs.map((j) => j.finishedOn - j.timestamp) };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
    await cleanRedis(prefix);
  }
}

async function cleanRedis(prefix) {
  const redis = new Redis(REDIS_URL);
  await unlinkPrefix(redis, prefix);
  redis.disconnect();
}

/**
 * Every row, one configuration after the other. Returns `{ rows, find }`: rows of
 * { store, workers, syncRate, submitRate, drainRate, backlog, e2eRate, halfRate, p50, p99 } and raw BullMQ rows.
 */
export async function runTasksBench() {
  const rows = [];
  for (const store of STORES) {
    for (const workers of WORKERS) {
      const split = await submitAndDrain(store, workers);
      const whole = await endToEnd(store, workers);
      rows.push({ name: `${store === "redis" ? "Redis" : "SQLite"}, --workers ${workers}`, store, workers, ...split, ...whole });
    }
  }
  const raw = [];
  if (STORES.includes("redis")) for (const workers of WORKERS) raw.push({ name: `raw BullMQ, ${workers} process(es)`, workers, ...(await rawBullmq(workers)) });
  return { rows, raw, settings: { duration: DURATION, connections: CONNECTIONS, concurrency: CONCURRENCY } };
}

/** The table's headers and cells. */
export function tasksTable({ rows }) {
  return {
    headers: ["store, workers", "sync runs/s", "submit /s", "drain /s (backlog)", "e2e tasks/s", "e2e ÷ sync", "half load /s", "p50 ms", "p99 ms", "CPU ms: sync run / submit / drain / e2e task"],
    cells: rows.map((r) => [
      r.name, fmt(r.syncRate), fmt(r.submitRate), `${fmt(r.drainRate)} (${fmt(r.backlog)})`, fmt(r.e2eRate), `${fmt(r.e2eRate / r.syncRate, 2)}x`, fmt(r.halfRate), fmt(r.p50), fmt(r.p99),
      [r.syncCpuMs, r.submitCpuMs, r.drainCpuMs, r.e2eCpuMs].map((x) => fmt(x, 2)).join(" / "),
    ]),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`tasks benchmark — ${machineLine()}; echo graph, ${CONNECTIONS} keep-alive submitters for ${DURATION} s per row, tasks.concurrency ${CONCURRENCY} per process`);
  const result = await runTasksBench();
  const { headers, cells } = tasksTable(result);
  printTable(headers, cells);
  console.log();
  printTable(
    ["half load, p50 ms per stage", "request→created", "created→202", "created→started", "started→completed", "tasks"],
    result.rows.map((r) => [r.name, fmt(r.stages.toCreated, 2), fmt(r.stages.toAnswer, 2), fmt(r.stages.toStart, 2), fmt(r.stages.run, 2), fmt(r.stages.count)]),
  );
  if (result.raw.length) {
    console.log();
    printTable(["raw BullMQ (no-op processor)", "jobs/s", "add→finish p50 ms"], result.raw.map((r) => [r.name, fmt(r.rate), fmt(percentile(r.latency, 50))]));
  }
}
