import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startCli, type CliHandle } from "../helpers/cli.js";
import { until } from "../helpers/load.js";
import { deleteKeys, uniquePrefix } from "../helpers/redis.js";
import { taskProject } from "../helpers/task-fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

interface Task {
  id: string;
  status: string;
  attempts: number;
  result: { tag: string } | null;
  error: { error_code: string; message: string } | null;
}

const json = { "content-type": "application/json", connection: "close" };

async function submit(base: string, input: object, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/api/v1/work/async`, { method: "POST", headers: { ...json, ...headers }, body: JSON.stringify(input) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as { task_id: string; status: string; check_url: string; error_code?: string } };
}

async function task(base: string, id: string): Promise<Task> {
  return (await (await fetch(`${base}/tasks/${id}`, { headers: { connection: "close" }, signal: AbortSignal.timeout(5_000) })).json()) as Task;
}

/** Like {@link task}, but a request that fails (its worker was just killed) reads as "not known yet". */
async function taskOrPending(base: string, id: string): Promise<Task> {
  return task(base, id).catch(() => ({ id, status: "unknown", attempts: 0, result: null, error: null }));
}

async function allTerminal(base: string, ids: string[], timeoutMs = 60_000): Promise<Task[]> {
  let tasks: Task[] = [];
  await until(async () => {
    tasks = await Promise.all(ids.map((id) => taskOrPending(base, id)));
    return tasks.every((t) => ["completed", "failed", "cancelled"].includes(t.status));
  }, "every task to end", timeoutMs);
  return tasks;
}

async function servePids(base: string, n: number): Promise<number[]> {
  const pids = new Set<number>();
  await until(async () => {
    pids.add(((await (await fetch(`${base}/health`, { headers: { connection: "close" } })).json()) as { pid: number }).pid);
    return pids.size >= n;
  }, `${n} workers`);
  return [...pids];
}

function start(cwd: string, args: string[] = [], env: Record<string, string> = {}): CliHandle {
  return startCli(["serve", "--port", "0", "--host", "127.0.0.1", ...args], { cwd, env: { TASK_LOG: path.join(cwd, "side-effects.log"), ...env } });
}

function sideEffects(cwd: string): Array<[string, number]> {
  const file = path.join(cwd, "side-effects.log");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id, pid] = line.split(" ");
      return [id!, Number(pid)];
    });
}

describe("durable background tasks (embedded SQLite)", () => {
  it("runs 200 tasks under --workers 2; a worker killed with SIGKILL mid-run loses none", async () => {
    const cwd = await tmpProject(taskProject());
    const server = start(cwd, ["--workers", "2"]);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const [victim] = await servePids(base, 2);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const r = await submit(base, { tag: `t${i}`, ms: 60 });
      expect(r.status).toBe(202);
      expect(r.body.status).toBe("pending");
      expect(r.body.check_url).toBe(`/tasks/${r.body.task_id}`);
      ids.push(r.body.task_id);
    }
    await until(() => sideEffects(cwd).length >= 30, "30 tasks done");
    process.kill(victim!, "SIGKILL");
    const tasks = await allTerminal(base, ids);
    expect(tasks.filter((t) => t.status !== "completed")).toEqual([]);
    const log = sideEffects(cwd);
    const byTask = new Map<string, number[]>();
    for (const [id, pid] of log) byTask.set(id, [...(byTask.get(id) ?? []), pid]);
    for (const id of ids) expect(byTask.has(id)).toBe(true);
    // A task ran twice only if its first run was on the killed worker.
    for (const [, pids] of byTask) if (pids.length > 1) expect(pids).toContain(victim);
  });

  it("SIGKILL of the whole process tree, then a new start on the same store: every task completes", async () => {
    const cwd = await tmpProject(taskProject());
    const first = start(cwd, ["--workers", "2"]);
    const base = `http://127.0.0.1:${await first.ready()}`;
    const workers = await servePids(base, 2);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await submit(base, { tag: `k${i}`, ms: 150 })).body.task_id);
    await until(() => sideEffects(cwd).length >= 5, "a few tasks done");
    for (const pid of [...workers, first.pid]) process.kill(pid, "SIGKILL");
    await first.exited();
    const second = start(cwd, ["--workers", "2"]);
    const base2 = `http://127.0.0.1:${await second.ready()}`;
    const tasks = await allTerminal(base2, ids);
    expect(tasks.map((t) => t.status)).toEqual(Array(40).fill("completed"));
    expect(new Set(sideEffects(cwd).map(([id]) => id))).toEqual(new Set(ids));
  });

  it("a poison task that kills its worker fails WORKER_LOST after a bounded number of tries; the service survives", async () => {
    const cwd = await tmpProject(taskProject());
    const server = start(cwd);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const { body } = await submit(base, { tag: "poison", poison: true });
    const [poisoned] = await allTerminal(base, [body.task_id]);
    expect(poisoned).toMatchObject({ status: "failed", error: { error_code: "WORKER_LOST" } });
    expect(poisoned!.attempts).toBeLessThanOrEqual(3);
    const ok = await submit(base, { tag: "after-poison", ms: 1 });
    const [after] = await allTerminal(base, [ok.body.task_id]);
    expect(after!.status).toBe("completed");
  });

  it("retries failures with exponential backoff, then succeeds; events are stored in order", async () => {
    const cwd = await tmpProject(taskProject());
    const server = start(cwd);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const { body } = await submit(base, { tag: "flaky", failTimes: 2, ms: 1 });
    const [done] = await allTerminal(base, [body.task_id]);
    expect(done).toMatchObject({ status: "completed", attempts: 3, result: { tag: "flaky" } });
    const times = readFileSync(path.join(cwd, "side-effects.log.times"), "utf8").trim().split("\n").map((l) => Number(l.split(" ")[1]));
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(190);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(390);
    const events = await (await fetch(`${base}/tasks/${body.task_id}/events`)).text();
    const types = [...events.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(types.filter((t) => t === "retry")).toHaveLength(2);
    expect(types.at(-1)).toBe("result");
    const seqs = [...events.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
  });

  it("cancels pending and running tasks (both end cancelled); 409 for a terminal one; 404 for unknown", async () => {
    const cwd = await tmpProject(taskProject({ tasks: { leaseMs: 1000, maxLost: 2, concurrency: 1 } }));
    const server = start(cwd);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const running = (await submit(base, { tag: "long", ms: 30_000 })).body.task_id;
    const pending = (await submit(base, { tag: "queued", ms: 1 })).body.task_id;
    await until(async () => (await task(base, running)).status === "running", "the long task to run");
    const cancelPending = await fetch(`${base}/tasks/${pending}`, { method: "DELETE" });
    expect(cancelPending.status).toBe(200);
    const cancelRunning = await fetch(`${base}/tasks/${running}`, { method: "DELETE" });
    expect(cancelRunning.status).toBe(200);
    const ended = await allTerminal(base, [running, pending]);
    expect(ended.map((t) => t.status)).toEqual(["cancelled", "cancelled"]);
    const again = await fetch(`${base}/tasks/${running}`, { method: "DELETE" });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error_code: string }).error_code).toBe("CONFLICT");
    expect(sideEffects(cwd).map(([id]) => id)).not.toContain(pending);
    const missing = await fetch(`${base}/tasks/does-not-exist`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error_code: string }).error_code).toBe("NOT_FOUND");
  });

  it("Idempotency-Key: same body → same task (replayed), other body → 422; 50 concurrent requests create one task", async () => {
    const cwd = await tmpProject(taskProject());
    const server = start(cwd, ["--workers", "2"]);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const a = await submit(base, { tag: "idem", ms: 1 }, { "idempotency-key": "order-1" });
    const b = await submit(base, { tag: "idem", ms: 1 }, { "idempotency-key": "order-1" });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.task_id).toBe(a.body.task_id);
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect(a.headers.get("idempotent-replayed")).toBeNull();
    const c = await submit(base, { tag: "other", ms: 1 }, { "idempotency-key": "order-1" });
    expect(c.status).toBe(422);
    expect(c.body.error_code).toBe("IDEMPOTENCY_MISMATCH");
    const burst = await Promise.all(Array.from({ length: 50 }, () => submit(base, { tag: "burst", ms: 1 }, { "idempotency-key": "burst-1" })));
    expect(burst.map((r) => r.status)).toEqual(Array(50).fill(202));
    expect(new Set(burst.map((r) => r.body.task_id)).size).toBe(1);
    const list = (await (await fetch(`${base}/tasks?graph=work&limit=100`)).json()) as { tasks: Task[] };
    expect(list.tasks.filter((t) => t.result?.tag === "burst" || t.status !== "completed").length).toBeLessThanOrEqual(1);
  });

  it("lists with filters and cursor pagination; invalid input is 422 before anything is stored", async () => {
    const cwd = await tmpProject(taskProject());
    const server = start(cwd);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await submit(base, { tag: `p${i}`, ms: 1 })).body.task_id);
    await allTerminal(base, ids);
    const page1 = (await (await fetch(`${base}/tasks?status=completed&limit=2`)).json()) as { tasks: Task[]; next_cursor: string };
    expect(page1.tasks).toHaveLength(2);
    const page2 = (await (await fetch(`${base}/tasks?status=completed&limit=2&cursor=${encodeURIComponent(page1.next_cursor)}`)).json()) as { tasks: Task[] };
    expect(page2.tasks.map((t) => t.id)).not.toContain(page1.tasks[0]!.id);
    expect(page1.tasks[0]!.id).toBe(ids[4]);
    const bad = await submit(base, { tag: 5 });
    expect(bad.status).toBe(422);
    expect(bad.body.error_code).toBe("VALIDATION_ERROR");
    const badQuery = await fetch(`${base}/tasks?status=weird`);
    expect(badQuery.status).toBe(422);
    const all = (await (await fetch(`${base}/tasks?limit=100`)).json()) as { tasks: Task[] };
    expect(all.tasks).toHaveLength(5);
  });

  it("prunes terminal tasks past the retention age; a pruned id answers 404 JSON", async () => {
    const cwd = await tmpProject(taskProject({ tasks: { leaseMs: 1000, maxLost: 2, retentionMs: 300, pruneIntervalMs: 200 } }));
    const server = start(cwd);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const id = (await submit(base, { tag: "old", ms: 1 })).body.task_id;
    await allTerminal(base, [id]);
    await until(async () => (await fetch(`${base}/tasks/${id}`)).status === 404, "the task to be pruned");
    const gone = await fetch(`${base}/tasks/${id}`);
    expect(((await gone.json()) as { error_code: string }).error_code).toBe("NOT_FOUND");
  });
});

describe("durable background tasks on Redis", () => {
  const prefix = uniquePrefix("kg-e2e");
  afterAll(() => deleteKeys(prefix));

  it("a serve process and a separate kaygraph worker process share the queue; all tasks complete", async () => {
    const cwd = await tmpProject(taskProject());
    const env = { KAYGRAPH_REDIS_URL: "redis://127.0.0.1:6379", KAYGRAPH_REDIS_PREFIX: prefix, TASK_LOG: path.join(cwd, "side-effects.log") };
    const server = start(cwd, [], env);
    const base = `http://127.0.0.1:${await server.ready()}`;
    const worker = startCli(["worker", "--concurrency", "4"], { cwd, env });
    await worker.waitFor("kaygraph: worker ready");
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await submit(base, { tag: `r${i}`, ms: 80 })).body.task_id);
    const tasks = await allTerminal(base, ids);
    expect(tasks.map((t) => t.status)).toEqual(Array(40).fill("completed"));
    const pids = new Set(sideEffects(cwd).map(([, pid]) => pid));
    expect(pids.has(worker.pid)).toBe(true);
    worker.kill("SIGTERM");
    expect((await worker.exited()).exitCode).toBe(0);
  });
});

describe("graceful shutdown with background tasks", () => {
  it("SIGTERM hands unfinished tasks back at the deadline; the next start runs them", async () => {
    const cwd = await tmpProject(taskProject());
    const first = start(cwd, ["--shutdown-timeout", "1"]);
    const base = `http://127.0.0.1:${await first.ready()}`;
    const id = (await submit(base, { tag: "long", ms: 20_000 })).body.task_id;
    await until(async () => (await task(base, id)).status === "running", "the task to run");
    first.kill("SIGTERM");
    expect((await first.exited()).exitCode).toBe(0);
    const second = start(cwd);
    const base2 = `http://127.0.0.1:${await second.ready()}`;
    // Handed back (not failed, not lost), then claimed again by the new process.
    await until(async () => (await task(base2, id)).status === "running", "the new process to run it");
    expect((await task(base2, id)).attempts).toBe(1);
    await fetch(`${base2}/tasks/${id}`, { method: "DELETE" });
    const [ended] = await allTerminal(base2, [id]);
    expect(ended!.status).toBe("cancelled");
  });
});
