/**
 * Store faults against the built CLI (issue 15): the SQLite file deleted while `serve --workers 2` serves, and
 * a frozen Redis (`kill -STOP`). `/ready` tells the truth, task routes answer 503 `UNAVAILABLE` naming the store,
 * no second database is ever created, everything recovers by itself when Redis is back, and a retried submit
 * with the same Idempotency-Key returns the task stored late.
 */
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { startCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { until } from "../helpers/load.js";
import { uniquePrefix } from "../helpers/redis.js";
import { canConnect, freePort } from "../helpers/ports.js";
import { startRedis } from "../helpers/redis-server.js";
import { tmpProject } from "../helpers/tmp-project.js";

const json = { "content-type": "application/json", connection: "close" };

interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  ms: number;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, { ...init, headers: { connection: "close", ...init.headers }, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, headers: res.headers, ms: performance.now() - started };
}

const submit = (base: string, body: unknown, headers: Record<string, string> = {}) => call(`${base}/api/v1/echo/async`, { method: "POST", headers: { ...json, ...headers }, body: JSON.stringify(body) });

/** True once `n` answers in a row (fresh connections, so spread over the workers) satisfy `check`. */
async function consistently(url: string, check: (a: Answer) => boolean, n: number): Promise<boolean> {
  for (let i = 0; i < n; i++) if (!check(await call(url))) return false;
  return true;
}

function expectStoreDown(answer: Answer, backend: string): void {
  expect(answer.status).toBe(503);
  expect(answer.body).toMatchObject({ error_code: "UNAVAILABLE" });
  expect(String(answer.body.error)).toContain("task store");
  expect(answer.headers.get("retry-after")).toBe("1");
  expect(JSON.stringify(answer.body)).not.toMatch(/\.kaygraph|\/tmp\//);
  void backend;
}

describe("SQLite store deleted while serving", () => {
  it("/ready 503 naming the store, task routes 503, one error line per worker, and a replacement worker creates no new database", async () => {
    const cwd = await tmpProject(basicProject({ "kaygraph.config.json": { tasks: { concurrency: 1 }, log: { level: "info" } } }));
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "2"], { cwd });
    const base = `http://127.0.0.1:${await server.ready()}`;
    for (let i = 0; i < 3; i++) expect((await submit(base, { text: `t${i}` })).status).toBe(202);
    const ready = await call(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: "ready", stores: { tasks: { status: "up", backend: "sqlite" } } });

    const dir = path.join(cwd, ".kaygraph");
    for (const name of readdirSync(dir)) if (name.startsWith("kaygraph.db")) rmSync(path.join(dir, name));
    // Both workers notice within about a probe period.
    await until(() => consistently(`${base}/ready`, (a) => a.status === 503, 6), "/ready 503 from every worker");
    const notReady = await call(`${base}/ready`);
    expect(notReady.body).toMatchObject({ error_code: "UNAVAILABLE", details: { stores: { tasks: { status: "down", backend: "sqlite" } } } });
    expect(String(notReady.body.error)).toMatch(/task store \(sqlite\) is unavailable: the database file was deleted/);
    expectStoreDown(await call(`${base}/tasks`), "sqlite");
    expectStoreDown(await submit(base, { text: "after" }), "sqlite");
    expectStoreDown(await call(`${base}/tasks/anything`), "sqlite");
    expect((await call(`${base}/health`)).status).toBe(200);
    await server.waitFor(/"level":50[^\n]*task store stopped: the database file [^\n]* was deleted or moved away[^\n]*To recover/);
    // One line per worker, not one per probe or request.
    const stopLines = () => server.output().stdout.match(/task store stopped: the database file/g)?.length ?? 0;
    await until(() => stopLines() === 2, "the error line of each of the 2 workers");

    // A worker dies; its replacement must not create a fresh database beside the old one.
    const victim = ((await call(`${base}/health`)).body as { pid: number }).pid;
    const mark = server.mark();
    process.kill(victim, "SIGKILL");
    await server.waitFor(/died \(SIGKILL\); replacing it/, 30_000, mark);
    await server.waitFor(/task store is unavailable: the database file does not exist/, 30_000, mark);
    await until(async () => {
      const pid = ((await call(`${base}/health`)).body as { pid: number }).pid;
      return pid !== victim && pid > 0 && (await consistently(`${base}/ready`, (a) => a.status === 503, 4));
    }, "the replacement serving, degraded");
    expect(existsSync(path.join(dir, "kaygraph.db"))).toBe(false);
    expect(readdirSync(dir).filter((name) => name.startsWith("kaygraph.db"))).toEqual([]);
    expectStoreDown(await call(`${base}/tasks`), "sqlite");
    expect(server.output().stdout).not.toMatch(/KG_SERVER_CRASH_LOOP|giving up/);
    expect(stopLines()).toBe(2);
  });
});

describe("Redis frozen (kill -STOP)", () => {
  it("task routes answer 503 within a bounded time, /ready 503, recovery after kill -CONT; a retried submit returns the task stored late", async () => {
    const port = await freePort();
    const redis = startRedis(port);
    onTestFinished(() => {
      // SIGKILL works on a stopped process too.
      redis.kill("SIGKILL");
    });
    await until(() => canConnect(port), "throwaway redis");
    const env = { KAYGRAPH_REDIS_URL: `redis://127.0.0.1:${port}`, KAYGRAPH_REDIS_PREFIX: uniquePrefix("kg-e2e-freeze") };
    const cwd = await tmpProject(basicProject({ "kaygraph.config.json": { log: { level: "info" } } }));
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--workers", "1"], { cwd, env });
    const base = `http://127.0.0.1:${await server.ready()}`;
    expect((await submit(base, { text: "before" })).status).toBe(202);
    expect((await call(`${base}/ready`)).body).toMatchObject({ stores: { tasks: { status: "up", backend: "redis" } } });

    process.kill(redis.pid as number, "SIGSTOP");
    let frozen = true;
    onTestFinished(() => {
      if (frozen) process.kill(redis.pid as number, "SIGCONT");
    });
    const key = "retry-after-timeout-1";
    const lost = await submit(base, { text: "late" }, { "idempotency-key": key });
    expectStoreDown(lost, "redis");
    // Bounded: a command timeout of about 1 s; generous for a loaded machine.
    expect(lost.ms).toBeLessThan(5_000);
    const list = await call(`${base}/tasks`);
    expectStoreDown(list, "redis");
    expect(list.ms).toBeLessThan(5_000);
    await until(async () => (await call(`${base}/ready`)).status === 503, "/ready 503 while Redis is frozen", 10_000);
    const notReady = await call(`${base}/ready`);
    expect(notReady.body).toMatchObject({ details: { stores: { tasks: { status: "down", backend: "redis" } } } });
    expect(notReady.ms).toBeLessThan(5_000);
    expect((await call(`${base}/health`)).status).toBe(200);

    process.kill(redis.pid as number, "SIGCONT");
    frozen = false;
    await until(async () => (await call(`${base}/ready`)).status === 200, "/ready 200 after kill -CONT", 30_000);
    expect((await call(`${base}/tasks`)).status).toBe(200);

    // The submit that timed out reached Redis and was stored when it woke: the retry returns that task.
    const retry = await submit(base, { text: "late" }, { "idempotency-key": key });
    expect(retry.status).toBe(202);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    const tasks = (await call(`${base}/tasks?graph=echo`)).body.tasks as Array<{ id: string }>;
    expect(tasks.map((t) => t.id)).toContain(retry.body.task_id);
    expect(tasks).toHaveLength(2);
    // And it runs (its job is added by the retry at the latest).
    await until(async () => (await call(`${base}/tasks/${String(retry.body.task_id)}`)).body.status === "completed", "the late-stored task to complete", 30_000);
    expect((await submit(base, { text: "late" }, { "idempotency-key": key })).body.task_id).toBe(retry.body.task_id);
  });
});
