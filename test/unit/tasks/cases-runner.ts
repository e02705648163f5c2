/** Conformance: the TaskRunner over each store — runs, retries, timeouts, cancels, graceful stop. */
import { expect, it, onTestFinished } from "vitest";
import { TaskRunner, type TaskRunnerOptions, type TaskStore } from "../../../src/tasks/index.js";
import type { Fresh } from "./conformance.js";
import { scriptedExecute, type Script } from "./fixtures/scripted.js";
import { checkEventLog, collect, until } from "./helpers.js";

function startRunner(store: TaskStore, options: Partial<TaskRunnerOptions> & { calls?: string[] } = {}): TaskRunner {
  const runner = new TaskRunner(store, { concurrency: 2, leaseMs: 2000, random: () => 0, execute: scriptedExecute(options.calls), ...options });
  runner.start();
  onTestFinished(() => runner.stop({ deadlineMs: 100 }));
  return runner;
}

const submit = (store: TaskStore, script: Script, extra: { maxAttempts?: number; backoffMs?: number; timeoutMs?: number } = {}) =>
  store.submit({ graph: "scripted", version: 1, input: script, ...extra }).then((r) => r.task);

const settled = (store: TaskStore, id: string) =>
  until(async () => {
    const task = await store.get(id);
    return task && ["completed", "failed", "cancelled"].includes(task.status) && task;
  });

export function runnerCases(fresh: Fresh): void {
  it("runs a task and stores its run events renumbered, ending in one result", async () => {
    const store = await (await fresh()).open();
    const task = await submit(store, { events: 5, value: "v" });
    const live = collect(store, task.id);
    startRunner(store);
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", attempts: 1, result: { value: "v", attempt: 1 } });
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["start", "data", "data", "data", "data", "data", "result"]);
    expect(events.at(-1)).toMatchObject({ type: "result", result: { value: "v", attempt: 1 } });
    expect(await live.done).toEqual(events);
  });

  it("retries failed attempts with exponential backoff, seq continuing across attempts", async () => {
    const store = await (await fresh()).open();
    const task = await submit(store, { events: 1, failTimes: 2 }, { maxAttempts: 3, backoffMs: 100 });
    startRunner(store);
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", attempts: 3, result: { attempt: 3 } });
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["start", "data", "retry", "start", "data", "retry", "start", "data", "result"]);
    const retries = events.filter((e) => e.type === "retry");
    expect(retries).toMatchObject([
      { attempt: 1, delay_ms: 100, error_code: "GRAPH_ERROR", error: "scripted failure 1" },
      { attempt: 2, delay_ms: 200, error_code: "GRAPH_ERROR" },
    ]);
    // The next attempt did not start before its delay.
    const starts = events.filter((e) => e.type === "start");
    expect((starts[1]?.ts ?? 0) - (retries[0]?.ts ?? 0)).toBeGreaterThanOrEqual(95);
    expect((starts[2]?.ts ?? 0) - (retries[1]?.ts ?? 0)).toBeGreaterThanOrEqual(195);
  });

  it("fails after maxAttempts, and at once for a non-retryable error", async () => {
    const store = await (await fresh()).open();
    const flaky = await submit(store, { failTimes: 9 }, { maxAttempts: 2, backoffMs: 10 });
    const invalid = await submit(store, { failTimes: 9, code: "VALIDATION_ERROR" }, { maxAttempts: 3, backoffMs: 10 });
    startRunner(store);
    expect(await settled(store, flaky.id)).toMatchObject({ status: "failed", attempts: 2, error: { error_code: "GRAPH_ERROR", message: "scripted failure 2" } });
    expect(await settled(store, invalid.id)).toMatchObject({ status: "failed", attempts: 1, error: { error_code: "VALIDATION_ERROR" } });
    const events = await store.events(flaky.id);
    checkEventLog(events);
    expect(events.filter((e) => e.type === "retry")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "GRAPH_ERROR" });
  });

  it("fails at once (INTERNAL_ERROR) a result that has no JSON form, and stores no result as null", async () => {
    const store = await (await fresh()).open();
    const results: Record<string, unknown> = {};
    const execute = async (task: { input: unknown }) => results[(task.input as { value: string }).value];
    results.bigint = { n: 1n };
    results.fn = () => 1;
    results.none = undefined;
    const ids = await Promise.all(["bigint", "fn", "none"].map((value) => submit(store, { value }, { maxAttempts: 3 }).then((t) => t.id)));
    startRunner(store, { execute, onError: () => undefined });
    const [bigint, fn, none] = await Promise.all(ids.map((id) => settled(store, id)));
    expect(bigint).toMatchObject({ status: "failed", attempts: 1, result: null, error: { error_code: "INTERNAL_ERROR", message: "The task's result cannot be stored: it cannot be serialised as JSON (Do not know how to serialize a BigInt)." } });
    expect(fn).toMatchObject({ status: "failed", attempts: 1, result: null, error: { error_code: "INTERNAL_ERROR", message: "The task's result cannot be stored: it cannot be serialised as JSON (function has no JSON form)." } });
    expect(none).toMatchObject({ status: "completed", result: null });
  });

  it("hands back an attempt stopped through no fault of its own (rerunnable) without counting it", async () => {
    const store = await (await fresh()).open();
    const calls: string[] = [];
    const task = await submit(store, { rerunnableTimes: 2, value: "v" }, { maxAttempts: 1 });
    startRunner(store, { calls, execute: scriptedExecute(calls) });
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", attempts: 1, result: { value: "v" } });
    expect(calls.filter((id) => id === task.id)).toHaveLength(3);
    // Each hand-back says why, with its code; the attempt number stays 1.
    const retries = (await store.events(task.id)).filter((e) => e.type === "retry" || e.type === "error");
    expect(retries).toMatchObject([
      { type: "retry", attempt: 1, error_code: "ABORTED", delay_ms: 0 },
      { type: "retry", attempt: 1, error_code: "ABORTED", delay_ms: 0 },
    ]);
  });

  it("does not hold a fresh task's run for its start checkpoint, but waits for later ones and ends the task after it", async () => {
    const store = await (await fresh()).open();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    // The store as the runner sees it: every checkpoint write waits at the gate.
    const held = new Proxy(store, {
      get: (target, key) => {
        if (key === "checkpoint") return async (...args: Parameters<TaskStore["checkpoint"]>) => gate.then(() => target.checkpoint(...args));
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const start = { next_node: "a", step: 0, shared: { n: 1 }, params: {}, resume: [] };
    const next = { next_node: "b", step: 1, shared: { n: 2 }, params: {}, resume: [] };
    const ran: string[] = [];
    const task = await submit(store, {});
    startRunner(held, {
      execute: async (_task, { checkpoint }) => {
        await checkpoint(start);
        ran.push("a");
        await checkpoint(next);
        ran.push("b");
        return "done";
      },
    });
    await until(() => ran.length > 0);
    expect(ran).toEqual(["a"]);
    expect(await store.state(task.id)).toBeNull();
    open();
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", result: "done" });
    expect(ran).toEqual(["a", "b"]);
    expect(await store.state(task.id)).toEqual(next);
    checkEventLog(await store.events(task.id));
  });

  it("tells execute a fresh task's start checkpoint is held, and an attempt continuing from a checkpoint that it is not", async () => {
    const store = await (await fresh()).open();
    const next = { next_node: "b", step: 1, shared: { n: 2 }, params: {}, resume: [] };
    const told: boolean[] = [];
    const task = await submit(store, {}, { maxAttempts: 2, backoffMs: 0 });
    startRunner(store, {
      execute: async (_task, { checkpoint, startCheckpointHeld }) => {
        told.push(startCheckpointHeld);
        if (told.length > 1) return "done";
        await checkpoint(next);
        throw new Error("first attempt fails after its checkpoint");
      },
    });
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", attempts: 2 });
    expect(told).toEqual([true, false]);
  });

  it("ends a fresh task only after its start checkpoint is stored, even when the run is done before", async () => {
    const store = await (await fresh()).open();
    const start = { next_node: "a", step: 0, shared: { n: 1 }, params: {}, resume: [] };
    const task = await submit(store, {});
    startRunner(store, {
      execute: async (_task, { checkpoint }) => {
        await checkpoint(start);
        return "done";
      },
    });
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", result: "done" });
    // Written before the ending: had it come after, the ended lease would have fenced it.
    expect(await store.state(task.id)).toEqual(start);
  });

  it("stores a fresh task's start checkpoint, the events around it and its ending together, the events in order", async () => {
    const store = await (await fresh()).open();
    const start = { next_node: "a", step: 0, shared: { n: 1 }, params: {}, resume: [] };
    const task = await submit(store, {});
    startRunner(store, {
      execute: async (_task, { checkpoint, emit }) => {
        emit({ type: "node_start", seq: 1, ts: Date.now(), node: "a" });
        await checkpoint(start);
        emit({ type: "node_end", seq: 2, ts: Date.now(), node: "a", action: "default", duration_ms: 0 });
        return "done";
      },
    });
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", result: "done" });
    expect(await store.state(task.id)).toEqual(start);
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["node_start", "node_end", "result"]);
  });

  it("does not write a fresh task's start checkpoint that a later one replaced; the events of both go with the later one", async () => {
    const store = await (await fresh()).open();
    const written: number[] = [];
    const counted = new Proxy(store, {
      get: (target, key) => {
        if (key === "checkpoint") {
          return (...args: Parameters<TaskStore["checkpoint"]>) => {
            written.push(args[1].step);
            return target.checkpoint(...args);
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const start = { next_node: "a", step: 0, shared: { n: 1 }, params: {}, resume: [] };
    const next = { next_node: "b", step: 1, shared: { n: 2 }, params: {}, resume: [] };
    const task = await submit(store, {});
    startRunner(counted, {
      execute: async (_task, { checkpoint, emit }) => {
        emit({ type: "node_start", seq: 1, ts: Date.now(), node: "a" });
        await checkpoint(start);
        emit({ type: "node_end", seq: 2, ts: Date.now(), node: "a", action: "default", duration_ms: 0 });
        await checkpoint(next);
        return "done";
      },
    });
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", result: "done" });
    expect(written).toEqual([1]);
    expect(await store.state(task.id)).toEqual(next);
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["node_start", "node_end", "result"]);
  });

  it("stores the events left behind an append under way when the run ends before the ending, in order", async () => {
    const store = await (await fresh()).open();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let appends = 0;
    // The first append waits at the gate, so the run's later events and its ending queue up behind it.
    const slow = new Proxy(store, {
      get: (target, key) => {
        if (key === "appendEvents") {
          return async (...args: Parameters<TaskStore["appendEvents"]>) => (appends++ === 0 ? gate.then(() => target.appendEvents(...args)) : target.appendEvents(...args));
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const task = await submit(store, {});
    startRunner(slow, {
      execute: async (_task, { emit }) => {
        emit({ type: "node_start", seq: 1, ts: Date.now(), node: "a" });
        await until(() => appends === 1);
        emit({ type: "node_end", seq: 2, ts: Date.now(), node: "a", action: "default", duration_ms: 0 });
        emit({ type: "node_start", seq: 3, ts: Date.now(), node: "b" });
        return "done";
      },
    });
    await until(() => appends === 1);
    open();
    expect(await settled(store, task.id)).toMatchObject({ status: "completed", result: "done" });
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["node_start", "node_end", "node_start", "result"]);
  });

  it("a fresh task cancelled in its first node ends cancelled, its held start checkpoint refused", async () => {
    const store = await (await fresh()).open();
    const start = { next_node: "a", step: 0, shared: { n: 1 }, params: {}, resume: [] };
    let started!: () => void;
    const inNode = new Promise<void>((resolve) => (started = resolve));
    const task = await submit(store, {});
    const runner = startRunner(store, {
      execute: async (_task, { checkpoint, signal }) => {
        await checkpoint(start);
        started();
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return "late";
      },
    });
    await inNode;
    await store.cancel(task.id);
    expect(await settled(store, task.id)).toMatchObject({ status: "cancelled", error: { error_code: "CANCELLED" } });
    await until(() => runner.running === 0);
    expect(await store.state(task.id)).toBeNull();
    checkEventLog(await store.events(task.id));
  });

  it("fails a task that exceeds its timeout with TIMEOUT", async () => {
    const store = await (await fresh()).open();
    const task = await submit(store, { hang: true }, { timeoutMs: 150 });
    startRunner(store);
    expect(await settled(store, task.id)).toMatchObject({ status: "failed", error: { error_code: "TIMEOUT" } });
    expect((await store.events(task.id)).at(-1)).toMatchObject({ type: "error", error_code: "TIMEOUT" });
  });

  it("never runs a task cancelled while pending, and aborts one cancelled while running", async () => {
    const store = await (await fresh()).open();
    const calls: string[] = [];
    const skipped = await submit(store, {});
    await store.cancel(skipped.id);
    const hanging = await submit(store, { hang: true });
    startRunner(store, { calls });
    await until(() => calls.includes(hanging.id));
    await store.cancel(hanging.id);
    expect(await settled(store, hanging.id)).toMatchObject({ status: "cancelled", error: { error_code: "CANCELLED" } });
    const after = await submit(store, {});
    await settled(store, after.id);
    expect(calls).not.toContain(skipped.id);
    checkEventLog(await store.events(hanging.id));
  });

  it("runs at most `concurrency` tasks at once", async () => {
    const store = await (await fresh()).open();
    let running = 0;
    let peak = 0;
    const execute = scriptedExecute();
    const tasks = await Promise.all(Array.from({ length: 5 }, () => submit(store, { sleepMs: 60 })));
    startRunner(store, {
      concurrency: 2,
      execute: async (task, ctx) => {
        peak = Math.max(peak, ++running);
        try {
          return await execute(task, ctx);
        } finally {
          running--;
        }
      },
    });
    for (const task of tasks) expect((await settled(store, task.id)).status).toBe("completed");
    expect(peak).toBe(2);
  });

  it("stops gracefully: finishes what ends before the deadline, hands the rest back for the next start", async () => {
    const store = await (await fresh()).open();
    const quick = await submit(store, { sleepMs: 100 });
    const stuck = await submit(store, { hang: true });
    const calls: string[] = [];
    const runner = startRunner(store, { calls });
    await until(() => calls.length === 2);
    await runner.stop({ deadlineMs: 600 });
    expect(await store.get(quick.id)).toMatchObject({ status: "completed" });
    expect(await store.get(stuck.id)).toMatchObject({ status: "pending", attempts: 0 });
    // The next start (here: a runner whose graph no longer hangs) runs it.
    startRunner(store, { execute: () => "second run" });
    expect(await settled(store, stuck.id)).toMatchObject({ status: "completed", attempts: 1, result: "second run" });
    const events = await store.events(stuck.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["start", "retry", "result"]);
    expect(events[1]).toMatchObject({ type: "retry", attempt: 1, error_code: "WORKER_SHUTDOWN", delay_ms: 0 });
  });
}
