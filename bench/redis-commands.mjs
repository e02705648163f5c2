// bench/redis-commands: what one background task costs Redis on the e2e path. A `serve --workers N` on Redis
// takes `--tasks` submits from 20 keep-alive connections and runs them; Redis' INFO commandstats and CPU
// before and after give the script calls, the commands (those inside scripts included) and the Redis server's
// CPU per task, beside the serve processes' CPU per task. Use a Redis nobody else uses while it runs (its
// counters are server-wide), e.g. `redis-server --port 6390 --save ''`:
//   node bench/redis-commands.mjs [--tasks 5000] [--workers 2] [--all]   (KAYGRAPH_BENCH_REDIS_URL, default :6379)
import autocannon from "autocannon";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { machineLine, numberFlag, printTable, treeCpuMs, unlinkPrefix } from "./lib.mjs";
import { benchDir, startKaygraph } from "./servers.mjs";

const args = process.argv.slice(2);
const TASKS = numberFlag(args, "tasks", 5000);
const WORKERS = numberFlag(args, "workers", 2);
const REDIS_URL = process.env.KAYGRAPH_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

const redis = new Redis(REDIS_URL);
/** Calls per command name (scripts' inner commands included, as Redis counts them). */
async function commandCalls() {
  const lines = (await redis.info("commandstats")).split("\n").filter((line) => line.startsWith("cmdstat_"));
  return new Map(lines.map((line) => [line.slice(8, line.indexOf(":")), Number(/calls=(\d+)/.exec(line)[1])]));
}
async function redisCpuSeconds() {
  const info = await redis.info("cpu");
  return Number(/used_cpu_sys:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_user:([\d.]+)/.exec(info)[1]);
}

const prefix = `kg-bench-${randomUUID().slice(0, 8)}`;
const db = path.join(benchDir, "project", ".kaygraph", `bench-${prefix}.db`);
const env = { KAYGRAPH_DATABASE: db, KAYGRAPH_TASKS_CONCURRENCY: "32", KAYGRAPH_REDIS_URL: REDIS_URL, KAYGRAPH_REDIS_PREFIX: prefix };
const server = await startKaygraph(["--workers", String(WORKERS)], { env });
try {
  await sleep(500);
  const [calls0, redis0, serve0, t0] = [await commandCalls(), await redisCpuSeconds(), treeCpuMs(server.child.pid), Date.now()];
  await new Promise((resolve, reject) =>
    autocannon(
      { url: `http://127.0.0.1:${server.port}/api/v1/echo/async`, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "hello graph", n: 41 }), connections: 20, amount: TASKS },
      (error, result) => (error ? reject(error) : result.non2xx > 0 ? reject(new Error(`${result.non2xx} non-2xx answers`)) : resolve(result)),
    ),
  );
  while ((await redis.zcard(`${prefix}:idx:status:completed`)) < TASKS) await sleep(50);
  const [calls1, redis1, serve1, t1] = [await commandCalls(), await redisCpuSeconds(), treeCpuMs(server.child.pid), Date.now()];
  const perTask = [...calls1].map(([name, n]) => [name, (n - (calls0.get(name) ?? 0)) / TASKS]).filter(([, n]) => n >= 0.01).sort((a, b) => b[1] - a[1]);
  const total = perTask.reduce((sum, [, n]) => sum + n, 0);
  const scripts = perTask.filter(([name]) => name === "evalsha" || name === "eval").reduce((sum, [, n]) => sum + n, 0);
  console.log(`redis commands per task — ${machineLine()}; serve --workers ${WORKERS}, ${TASKS} tasks from 20 keep-alive submitters`);
  printTable(["tasks/s", "script calls / task", "commands / task", "Redis CPU µs / task", "serve CPU µs / task"], [[
    Math.round(TASKS / ((t1 - t0) / 1000)), scripts.toFixed(2), total.toFixed(1), Math.round(((redis1 - redis0) * 1e6) / TASKS), Math.round(((serve1 - serve0) * 1000) / TASKS),
  ]]);
  if (args.includes("--all")) {
    console.log();
    printTable(["command", "calls / task"], perTask.map(([name, n]) => [name, n.toFixed(2)]));
  }
} finally {
  await server.stop();
  for (const suffix of ["", "-wal", "-shm"]) rmSync(`${db}${suffix}`, { force: true });
  await unlinkPrefix(redis, prefix);
  redis.disconnect();
}
