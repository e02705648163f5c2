import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { startCli, type CliHandle } from "../helpers/cli.js";
import { isolationProject } from "../helpers/isolation-fixtures.js";
import { until } from "../helpers/load.js";
import { linkPackages, writeTree } from "../helpers/tmp-project.js";

const json = { "content-type": "application/json" };

async function post(base: string, graph: string, body: object = {}) {
  const started = performance.now();
  const res = await fetch(`${base}/api/v1/${graph}`, { method: "POST", headers: json, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, any>, ms: performance.now() - started };
}

async function submit(base: string, graph: string, body: object = {}): Promise<string> {
  const { status, body: answer } = await post(base, `${graph}/async`, body);
  expect(status).toBe(202);
  return answer.task_id as string;
}

interface Task {
  status: string;
  attempts: number;
  error: { error_code: string } | null;
}

async function taskOf(base: string, id: string): Promise<Task> {
  return (await (await fetch(`${base}/tasks/${id}`)).json()) as Task;
}

async function terminal(base: string, id: string, timeoutMs = 90_000): Promise<Task> {
  let task: Task | undefined;
  await until(async () => ["completed", "failed", "cancelled"].includes((task = await taskOf(base, id)).status), `task ${id} to end`, timeoutMs);
  return task!;
}

/** Every worker pid /health reports (two workers). */
async function workerPids(base: string): Promise<Set<number>> {
  const pids = new Set<number>();
  await until(async () => {
    pids.add(((await (await fetch(`${base}/health`, { headers: { connection: "close" } })).json()) as { pid: number }).pid);
    return pids.size >= 2;
  }, "both workers to answer /health");
  return pids;
}

describe("run isolation under kaygraph serve --workers 2 (execution: thread)", () => {
  let server: CliHandle;
  let base: string;
  let cwd: string;
  let pids: Set<number>;

  beforeAll(async () => {
    cwd = await mkdtemp(path.join(os.tmpdir(), "kaygraph-"));
    await writeTree(cwd, isolationProject());
    await linkPackages(cwd);
    server = startCli(["serve", "--workers", "2", "--port", "0", "--host", "127.0.0.1"], { cwd, env: { TASK_LOG: path.join(cwd, "side-effects.log") }, autoStop: false });
    base = `http://127.0.0.1:${await server.ready(120_000)}`;
    pids = await workerPids(base);
    return async () => {
      await server.stop();
      if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(cwd, { recursive: true, force: true });
    };
  }, 180_000);

  it("a graph that never yields answers 504 TIMEOUT after its timeout while 50 other requests answer 200 and /health stays fast", async () => {
    const spinning = post(base, "spin");
    let healthWorst = 0;
    let spinDone = false;
    const health = (async () => {
      while (!spinDone) {
        const t = performance.now();
        const res = await fetch(`${base}/health`, { headers: { connection: "close" } });
        await res.arrayBuffer();
        healthWorst = Math.max(healthWorst, performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const fast = await Promise.all(Array.from({ length: 50 }, (_, i) => post(base, "fast", { text: String(i) })));
    const spin = await spinning;
    spinDone = true;
    await health;
    expect(fast.map((r) => r.status)).toEqual(Array(50).fill(200));
    expect(spin.status).toBe(504);
    expect(spin.body).toMatchObject({ error_code: "TIMEOUT" });
    expect(spin.body.error).toMatch(/timeout of 2000 ms/);
    // 2 s timeout + 1 s grace; generous for a loaded machine.
    expect(spin.ms).toBeGreaterThan(1_900);
    expect(spin.ms).toBeLessThan(8_000);
    // The main thread never waits on the spinning graph: /health stays well within its bound. (The bound is
    // generous: on a loaded 2-core machine one new connection alone can take a few hundred ms.)
    expect(healthWorst).toBeLessThan(2_000);
  });

  it("a spinning background task ends TIMEOUT after its bounded attempts while other tasks keep completing", async () => {
    const spinId = await submit(base, "spin");
    const others = await Promise.all(Array.from({ length: 8 }, () => submit(base, "fast", { text: "t" })));
    for (const id of others) expect((await terminal(base, id)).status).toBe("completed");
    const spin = await terminal(base, spinId);
    expect(spin).toMatchObject({ status: "failed", attempts: 2, error: { error_code: "TIMEOUT" } });
  });

  it("a CPU-bound task of 12 s under a 3 s lease runs exactly once (renewal is on the main thread)", async () => {
    const id = await submit(base, "cpu", { ms: 12_000 });
    const task = await terminal(base, id, 120_000);
    expect(task).toMatchObject({ status: "completed", attempts: 1 });
    const lines = readFileSync(path.join(cwd, "side-effects.log"), "utf8").split("\n").filter((l) => l === id);
    expect(lines).toHaveLength(1);
  });

  it("DELETE /tasks/{id} of a task that never yields ends it cancelled, and its thread is replaced", async () => {
    const id = await submit(base, "forever");
    const started = path.join(cwd, "side-effects.log.forever");
    await until(() => existsSync(started) && readFileSync(started, "utf8").includes(id), "the task's node to start spinning");
    const mark = server.mark();
    const res = await fetch(`${base}/tasks/${id}`, { method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await terminal(base, id)).toMatchObject({ status: "cancelled" });
    await server.waitFor(/run thread \d+ was terminated/, 30_000, mark);
    const after = await submit(base, "fast", { text: "after cancel" });
    expect((await terminal(base, after)).status).toBe("completed");
  });

  it("a graph that exhausts its thread's heap ends RESOURCE_EXHAUSTED; the worker process lives", async () => {
    const leak = await post(base, "leak");
    expect(leak.status).toBe(500);
    expect(leak.body).toMatchObject({ error_code: "RESOURCE_EXHAUSTED" });
    expect(leak.body.error).toMatch(/ran out of memory/);
    expect(await workerPids(base)).toEqual(pids);
    expect(server.output().stderr + server.output().stdout).not.toMatch(/died|replacing it/);
  });

  it("process.exit() in a graph ends only its own run, ten times over; the service keeps serving", async () => {
    for (let i = 0; i < 10; i++) {
      const bye = await post(base, "bye");
      expect(bye.status).toBe(500);
      expect(bye.body).toMatchObject({ error_code: "GRAPH_ERROR" });
      expect((await post(base, "fast", { text: "still here" })).status).toBe(200);
    }
    expect(await workerPids(base)).toEqual(pids);
    expect(existsSync(cwd)).toBe(true);
  });
});
