/**
 * Conformance across processes: a child process (fixtures/child.ts) shares the storage with the test.
 * Stores in these tests poll only every 10 s, so anything faster proves the notification path.
 */
import { expect, it } from "vitest";
import { TaskRunner } from "../../../src/tasks/index.js";
import type { Fresh } from "./conformance.js";
import { checkEventLog, collect, spawnChild, until } from "./helpers.js";

const SLOW_POLL = { pollMs: 10_000 };

/** Resolves with the first JSON line of a child's stdout that has `key`. */
function lineWith(child: ReturnType<typeof spawnChild>, key: string): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (const line of buffer.split("\n").slice(0, -1)) {
        const value = JSON.parse(line) as Record<string, any>;
        if (key in value) resolve(value);
      }
    });
    void child.then((r) => reject(new Error(`child exited (${r.exitCode}) without "${key}":\n${r.stdout}\n${r.stderr}`)));
  });
}

export function crossProcessCases(fresh: Fresh): void {
  it("keeps every acknowledged submit when the submitting process is killed with SIGKILL", async () => {
    const backend = await fresh();
    const child = spawnChild(backend, { cmd: "submit-forever", loops: 16 });
    const acked: string[] = [];
    let buffer = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const line of lines) acked.push((JSON.parse(line) as { ack: string }).ack);
        // Killed mid-stream: other submits of the same group are in flight at this moment.
        if (acked.length >= 200) resolve();
      });
      void child.then((r) => reject(new Error(`child exited (${r.exitCode}) after ${acked.length} acks:\n${r.stderr}`)));
    });
    child.kill("SIGKILL");
    await child;
    const store = await backend.open();
    const missing = [];
    for (const id of acked) if ((await store.get(id))?.status !== "pending") missing.push(id);
    expect(missing).toEqual([]);
  });

  it("creates one task for one idempotency key submitted concurrently from three processes", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const command = { cmd: "submit", count: 25, key: "shared-key", input: { same: true } };
    const children = [spawnChild(backend, command), spawnChild(backend, command)];
    const local = await Promise.all(Array.from({ length: 25 }, () => store.submit({ graph: "g", version: 1, input: { same: true }, idempotencyKey: "shared-key" })));
    const remote = await Promise.all(children);
    const outputs = remote.map((r) => {
      expect(r.exitCode, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { ids: string[]; created: number };
    });
    const ids = new Set([...local.map((r) => r.task.id), ...outputs.flatMap((o) => o.ids)]);
    expect(ids.size).toBe(1);
    expect(local.filter((r) => !r.replayed).length + outputs.reduce((n, o) => n + o.created, 0)).toBe(1);
    expect((await store.list()).tasks).toHaveLength(1);
  });

  it("delivers events appended by another process to a live subscriber, in order", async () => {
    const backend = await fresh();
    const store = await backend.open(SLOW_POLL);
    const { task } = await store.submit({ graph: "g", version: 1, input: null });
    const live = collect(store, task.id);
    const child = spawnChild(backend, { cmd: "emit", events: 40 });
    const events = await live.done;
    expect((await child).exitCode).toBe(0);
    checkEventLog(events);
    expect(events.map((e) => (e.type === "data" ? e.chunk : e.type))).toEqual([...Array.from({ length: 40 }, (_, i) => i), "result"]);
    expect(events).toEqual(await store.events(task.id));
    // A late subscriber resumes after a seq with no gap and no duplicate.
    expect((await collect(store, task.id, 35).done).map((e) => e.seq)).toEqual([36, 37, 38, 39, 40, 41]);
  });

  it("wakes an idle runner at once for a task submitted by another process", async () => {
    const backend = await fresh();
    const store = await backend.open(SLOW_POLL);
    const runner = new TaskRunner(store, { concurrency: 1, leaseMs: 5000, execute: () => "ran" });
    runner.start();
    try {
      const child = await spawnChild(backend, { cmd: "submit", count: 1 });
      expect(child.exitCode, child.stderr).toBe(0);
      const [id] = (JSON.parse(child.stdout) as { ids: string[] }).ids;
      const task = await until(async () => {
        const t = await store.get(id as string);
        return t?.status === "completed" && t;
      });
      const latencyMs = Date.parse(task.started_at as string) - Date.parse(task.created_at);
      expect(latencyMs).toBeLessThan(1000);
    } finally {
      await runner.stop({ deadlineMs: 100 });
    }
  });

  it("recovers the task of a worker process killed with SIGKILL", async () => {
    const backend = await fresh();
    const store = await backend.open(SLOW_POLL);
    const worker = spawnChild(backend, { cmd: "worker", concurrency: 1, leaseMs: 600 });
    await lineWith(worker, "ready");
    const { task } = await store.submit({ graph: "g", version: 1, input: { hang: true } });
    await until(async () => (await store.events(task.id)).length > 0);
    worker.kill("SIGKILL");
    await worker;
    const runner = new TaskRunner(store, { concurrency: 1, leaseMs: 600, execute: () => "recovered" });
    runner.start();
    try {
      const done = await until(async () => {
        const current = await store.get(task.id);
        return current?.status === "completed" && current;
      });
      expect(done).toMatchObject({ attempts: 2, result: "recovered" });
      const events = await store.events(task.id);
      checkEventLog(events);
      expect(events.map((e) => e.type)).toEqual(["start", "retry", "result"]);
      expect(events[1]).toMatchObject({ error_code: "WORKER_LOST", attempt: 1 });
    } finally {
      await runner.stop({ deadlineMs: 100 });
    }
  });

  it("lets a runner in another process run tasks, cancel them, and stop gracefully", async () => {
    const backend = await fresh();
    const store = await backend.open(SLOW_POLL);
    const worker = spawnChild(backend, { cmd: "worker", concurrency: 2 });
    await lineWith(worker, "ready");
    const { task } = await store.submit({ graph: "g", version: 1, input: { events: 20, value: "remote" } });
    const events = await collect(store, task.id).done;
    checkEventLog(events);
    expect(events.at(-1)).toMatchObject({ type: "result", result: { value: "remote" } });
    const { task: hanging } = await store.submit({ graph: "g", version: 1, input: { hang: true } });
    await until(async () => (await store.get(hanging.id))?.status === "running");
    await store.cancel(hanging.id);
    const cancelled = await collect(store, hanging.id).done;
    expect(cancelled.at(-1)).toMatchObject({ type: "error", error_code: "CANCELLED" });
    worker.stdin?.end();
    expect((await worker).exitCode).toBe(0);
  });
}
