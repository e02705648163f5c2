// bench/webhooks: what webhooks cost and how fast they arrive, in one process (run `npm run build`).
//   task throughput  tasks/s of a trivial background task without webhooks and with one endpoint (the outbox
//                    row written in each completion's transaction), side by side in rounds (median).
//   deliveries/s     signed POSTs a deliverer (concurrency = webhookDelivery.concurrency) gets answered by a
//                    local receiver, from the first completion to the last message received.
//   latency          a task's completion (the event's timestamp) → its message at the receiver (p50/p99): in the
//                    burst above (queueing included), and one task at a time (--single tasks, the idle path).
//   node bench/webhooks.mjs [--tasks 1000] [--rounds 3] [--concurrency 32] [--deliveries 16] [--redis redis://127.0.0.1:6379]
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { TaskRunner } from "../dist/index.js";
import { SqliteTaskStore } from "../dist/tasks/sqlite-store.js";
import { WebhookDeliverer } from "../dist/webhooks/deliverer.js";
import { runnerUntilDone } from "./task-runner-until-done.mjs";
import { fmt, machineLine, median, numberFlag, percentile, printTable } from "./lib.mjs";

const args = process.argv.slice(2);
const TASKS = numberFlag(args, "tasks", 1000);
const ROUNDS = numberFlag(args, "rounds", 3);
const CONCURRENCY = numberFlag(args, "concurrency", 32);
const DELIVERIES = numberFlag(args, "deliveries", 16);
const SINGLE = numberFlag(args, "single", 100);
const REDIS = args.includes("--redis") ? args[args.indexOf("--redis") + 1] : undefined;
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SETTINGS = { maxLost: 3, retentionMs: 3_600_000, maxRetained: 1_000_000, idempotencyTtlMs: 60_000, pollMs: 50 };

async function openStore(dir, name) {
  if (!REDIS) return SqliteTaskStore.open({ ...SETTINGS, file: path.join(dir, `${name}.db`) });
  const { BullmqTaskStore } = await import("../dist/tasks/bullmq-store.js");
  return BullmqTaskStore.open({ ...SETTINGS, url: REDIS, prefix: `kg-bench-wh-${process.pid}-${name}` });
}

/** A receiver answering 204 that records when each message arrived and the event time it carries. */
async function receiver() {
  const arrivals = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      arrivals.push({ at: Date.now(), eventAt: Date.parse(JSON.parse(body).timestamp) });
      res.statusCode = 204;
      res.end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, arrivals, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Submits TASKS tasks, runs them to completion; with `hook`, a deliverer sends their messages. */
async function round(dir, name, hook) {
  const store = await openStore(dir, name);
  const webhooks = hook ? [{ url: hook.url, events: ["task.completed"] }] : null;
  for (let i = 0; i < TASKS; i++) await store.submit({ graph: "g", version: 1, input: { i }, webhooks });
  const { runner, done: all } = runnerUntilDone(store, { tasks: TASKS, concurrency: CONCURRENCY, execute: async (task) => ({ ok: task.id }) });
  const deliverer = hook && new WebhookDeliverer(store, { settings: { timeoutMs: 10_000, backoffMs: 1_000, maxBackoffMs: 60_000, maxAgeMs: 3_600_000, concurrency: DELIVERIES }, secretFor: () => SECRET, pollMs: 50 });
  deliverer?.start();
  const started = Date.now();
  runner.start();
  await all;
  const tasksPerSecond = TASKS / ((Date.now() - started) / 1000);
  if (hook) while (hook.arrivals.length < TASKS) await new Promise((resolve) => setTimeout(resolve, 5));
  const seconds = hook ? (Math.max(...hook.arrivals.map((a) => a.at)) - started) / 1000 : 0;
  await runner.stop({ deadlineMs: 5_000 });
  await deliverer?.stop();
  await store.close();
  return { tasksPerSecond, deliveriesPerSecond: hook ? TASKS / seconds : 0, latencies: hook ? hook.arrivals.map((a) => a.at - a.eventAt) : [] };
}

/** One task at a time: completion → received, with nothing queued. */
async function single(dir) {
  const hook = await receiver();
  const store = await openStore(dir, "single");
  const runner = new TaskRunner(store, { concurrency: 4, leaseMs: 30_000, execute: async (task) => ({ ok: task.id }) });
  const deliverer = new WebhookDeliverer(store, { settings: { timeoutMs: 10_000, backoffMs: 1_000, maxBackoffMs: 60_000, maxAgeMs: 3_600_000, concurrency: DELIVERIES }, secretFor: () => SECRET });
  runner.start();
  deliverer.start();
  for (let i = 0; i < SINGLE; i++) {
    await store.submit({ graph: "g", version: 1, input: { i }, webhooks: [{ url: hook.url, events: ["task.completed"] }] });
    while (hook.arrivals.length <= i) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await runner.stop({ deadlineMs: 5_000 });
  await deliverer.stop();
  await store.close();
  await hook.close();
  return hook.arrivals.map((a) => a.at - a.eventAt);
}

const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-bench-wh-"));
try {
  const plain = [];
  const hooked = [];
  for (let i = 0; i < ROUNDS; i++) {
    plain.push(await round(dir, `plain-${i}`));
    const hook = await receiver();
    hooked.push(await round(dir, `hooked-${i}`, hook));
    await hook.close();
  }
  const latencies = hooked.flatMap((r) => r.latencies);
  const idle = await single(dir);
  console.log(`webhooks bench (${REDIS ? "Redis" : "SQLite"} store; ${TASKS} tasks per round, ${ROUNDS} rounds, task concurrency ${CONCURRENCY}, delivery concurrency ${DELIVERIES}); ${machineLine()}`);
  printTable(
    ["measure", "value"],
    [
      ["tasks/s without webhooks (median)", fmt(median(plain.map((r) => r.tasksPerSecond)))],
      ["tasks/s with one endpoint (median)", fmt(median(hooked.map((r) => r.tasksPerSecond)))],
      ["deliveries/s (median)", fmt(median(hooked.map((r) => r.deliveriesPerSecond)))],
      ["burst: completed → received p50 (ms)", fmt(percentile(latencies, 50), 1)],
      ["burst: completed → received p99 (ms)", fmt(percentile(latencies, 99), 1)],
      [`one at a time (${SINGLE}): completed → received p50 (ms)`, fmt(percentile(idle, 50), 1)],
      [`one at a time (${SINGLE}): completed → received p99 (ms)`, fmt(percentile(idle, 99), 1)],
    ],
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (REDIS) await deleteBenchKeys();
}

/** Removes this run's Redis keys. */
async function deleteBenchKeys() {
  const { Redis } = await import("ioredis");
  const redis = new Redis(REDIS);
  for await (const keys of redis.scanStream({ match: `kg-bench-wh-${process.pid}-*`, count: 1000 })) if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}
