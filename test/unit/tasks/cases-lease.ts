/** Conformance: claims, leases, fencing, sweeping lost leases, retries and releases, retention. */
import { expect, it } from "vitest";
import { TaskConflictError, type Lease, type TaskStore } from "../../../src/tasks/index.js";
import type { Fresh } from "./conformance.js";
import { checkEventLog, until } from "./helpers.js";

const SHORT_LEASE = 500;

/** Waits until a sweep has moved the task out of `running` (its lease expired). */
async function sweptOut(store: TaskStore, id: string) {
  return until(async () => {
    await store.sweep();
    const task = await store.get(id);
    return task?.status !== "running" && task;
  });
}

async function claimNow(store: TaskStore, leaseMs = 10_000): Promise<Lease> {
  const lease = await store.claim({ leaseMs, signal: AbortSignal.timeout(5_000) });
  if (!lease) throw new Error("expected a task to claim");
  return lease;
}

export function leaseCases(fresh: Fresh): void {
  it("a claim carries the submitting request's trace context (null without one); the public record does not", async () => {
    const store = await (await fresh()).open();
    const traceContext = { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "k=v" };
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, traceContext });
    expect(await store.get(task.id)).not.toHaveProperty("trace_context");
    expect((await claimNow(store)).task).toMatchObject({ id: task.id, trace_context: traceContext });
    await store.submit({ graph: "g", version: 1, input: {} });
    expect((await claimNow(store)).task.trace_context).toBeNull();
  });

  it("claimBatch takes as many waiting tasks as asked for in one call, each once, and the rest on the next", async () => {
    const store = await (await fresh()).open();
    const ids = await Promise.all(Array.from({ length: 5 }, async (_, i) => (await store.submit({ graph: "g", version: 1, input: { i } })).task.id));
    const first = await store.claimBatch({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) }, 3);
    expect(first).toHaveLength(3);
    const rest = await store.claimBatch({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) }, 5);
    expect(rest).toHaveLength(2);
    const claimed = [...first, ...rest].map((lease) => lease.task.id);
    expect(new Set(claimed).size).toBe(5);
    expect([...claimed].sort()).toEqual([...ids].sort());
    for (const lease of [...first, ...rest]) expect(await store.complete(lease, null)).toBe("ok");
  });

  it("applies one lease's writes in call order: events appended without waiting come before the ending", async () => {
    const store = await (await fresh()).open();
    const ids = await Promise.all(Array.from({ length: 5 }, async (_, i) => (await store.submit({ graph: "g", version: 1, input: { i } })).task.id));
    const leases = await store.claimBatch({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) }, 5);
    expect(leases.length).toBeGreaterThanOrEqual(1);
    expect(leases.length).toBeLessThanOrEqual(5);
    // Every write issued in one turn, nothing awaited in between (as a runner ending a quick task does).
    await Promise.all(leases.flatMap((lease) => [store.appendEvents(lease, [{ type: "data", ts: 1, node: "n", chunk: 1 }, { type: "data", ts: 2, node: "n", chunk: 2 }]), store.complete(lease, lease.task.input)]));
    for (const lease of leases) {
      expect(ids).toContain(lease.task.id);
      expect(await store.get(lease.task.id)).toMatchObject({ status: "completed", result: lease.task.input });
      const events = await store.events(lease.task.id);
      checkEventLog(events);
      expect(events.map((e) => e.type)).toEqual(["data", "data", "result"]);
    }
  });

  it("claims, renews, appends events and completes with exactly one terminal event", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: { x: 1 }, maxAttempts: 2, backoffMs: 10, timeoutMs: 500 });
    const lease = await claimNow(store);
    expect(lease.task).toMatchObject({ id: task.id, status: "running", attempts: 1, input: { x: 1 }, max_attempts: 2, backoff_ms: 10, timeout_ms: 500, lost: 0 });
    expect(lease.task.started_at).not.toBeNull();
    expect(await store.renew(lease, 10_000)).toEqual({ ok: true, cancelRequested: false });
    expect(await store.appendEvents(lease, [{ type: "start", ts: 1, run_id: "r" }, { type: "data", ts: 2, node: "n", chunk: [] }])).toBe(true);
    expect(await store.appendEvents(lease, [{ type: "data", ts: 3, node: "n", chunk: { deep: [1, 0.1, "é"] } }])).toBe(true);
    expect(await store.complete(lease, { out: [] })).toBe("ok");
    expect(await store.get(task.id)).toMatchObject({ status: "completed", result: { out: [] }, error: null, attempts: 1, completed_at: expect.any(String) });
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["start", "data", "data", "result"]);
    expect(events[2]).toEqual({ type: "data", seq: 3, ts: 3, node: "n", chunk: { deep: [1, 0.1, "é"] } });
    expect(events[3]).toMatchObject({ type: "result", seq: 4, result: { out: [] } });
    expect((await store.events(task.id, 2)).map((e) => e.seq)).toEqual([3, 4]);
    expect((await store.events(task.id, 1, 2)).map((e) => e.seq)).toEqual([2, 3]);
    expect((await store.events(task.id, 3, 10)).map((e) => e.seq)).toEqual([4]);
    // Terminal states never change; nothing is appended after the terminal event.
    expect(await store.complete(lease, "again")).toBe("fenced");
    expect(await store.appendEvents(lease, [{ type: "data", ts: 4, node: "n", chunk: 1 }])).toBe(false);
    await expect(store.cancel(task.id)).rejects.toBeInstanceOf(TaskConflictError);
    expect(await store.events(task.id)).toHaveLength(4);
  });

  it("a subscriber reads a log longer than one page: every event once, in order, then the end", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, maxAttempts: 1, backoffMs: 0, timeoutMs: 5_000 });
    const lease = await claimNow(store);
    const data = Array.from({ length: 300 }, (_, i) => ({ type: "data" as const, ts: i, node: "n", chunk: i }));
    expect(await store.appendEvents(lease, [{ type: "start", ts: 0, run_id: "r" }, ...data])).toBe(true);
    expect(await store.complete(lease, "done")).toBe("ok");
    const seen: number[] = [];
    await new Promise<void>((resolve) => {
      store.subscribe(task.id, 0, (event) => {
        seen.push(event.seq);
        if (event.type === "result") resolve();
      });
    });
    expect(seen).toEqual(Array.from({ length: 302 }, (_, i) => i + 1));
  });

  it("wakes a waiting claim when a task is submitted, and an aborted claim resolves undefined", async () => {
    const store = await (await fresh()).open();
    expect(await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(100) })).toBeUndefined();
    const waiting = store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(5000) });
    const { task } = await store.submit({ graph: "g", version: 1, input: null });
    expect((await waiting)?.task.id).toBe(task.id);
  });

  it("puts a task with an expired lease back to pending and fences the stale worker", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: null });
    const stale = await claimNow(store, SHORT_LEASE);
    expect(await store.appendEvents(stale, [{ type: "start", ts: 1, run_id: "a" }])).toBe(true);
    expect(await sweptOut(store, task.id)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await store.events(task.id)).at(-1)).toMatchObject({ type: "retry", attempt: 1, error_code: "WORKER_LOST", delay_ms: 0 });
    expect((await store.renew(stale, 10_000)).ok).toBe(false);
    const fresh2 = await claimNow(store);
    expect(fresh2.task).toMatchObject({ attempts: 2, lost: 1 });
    // The stale worker can neither finish nor write events over the new owner.
    expect(await store.complete(stale, "stale result")).toBe("fenced");
    expect(await store.fail(stale, { error_code: "GRAPH_ERROR", message: "stale" })).toBe("fenced");
    expect(await store.appendEvents(stale, [{ type: "data", ts: 2, node: "n", chunk: "stale" }])).toBe(false);
    expect(await store.release(stale)).toBe("fenced");
    expect(await store.complete(fresh2, "fresh result")).toBe("ok");
    expect(await store.get(task.id)).toMatchObject({ status: "completed", result: "fresh result", attempts: 2 });
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["start", "retry", "result"]);
  });

  it("fences a stale worker's events written in the same turn as its ending or checkpoint: none stored", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: null });
    const stale = await claimNow(store, SHORT_LEASE);
    await sweptOut(store, task.id);
    const owner = await claimNow(store);
    const late = { type: "data" as const, ts: 9, node: "n", chunk: "stale" };
    expect(await Promise.all([store.appendEvents(stale, [late]), store.checkpoint(stale, { next_node: "n", step: 1, shared: {}, params: {}, resume: [] }, [late])])).toEqual([false, false]);
    expect(await Promise.all([store.appendEvents(stale, [late]), store.complete(stale, "stale result")])).toEqual([false, "fenced"]);
    expect(await Promise.all([store.appendEvents(owner, [{ type: "data", ts: 10, node: "n", chunk: "fresh" }]), store.complete(owner, "fresh result")])).toEqual([true, "ok"]);
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.map((e) => e.type)).toEqual(["retry", "data", "result"]);
    expect(events[1]).toMatchObject({ chunk: "fresh" });
    expect(await store.state(task.id)).toBeNull();
  });

  it("fails a task with WORKER_LOST once it was lost more than maxLost times", async () => {
    const store = await (await fresh()).open({ maxLost: 1 });
    const { task } = await store.submit({ graph: "g", version: 1, input: null, maxAttempts: 5 });
    await claimNow(store, SHORT_LEASE);
    expect(await sweptOut(store, task.id)).toMatchObject({ status: "pending" });
    await claimNow(store, SHORT_LEASE);
    expect(await sweptOut(store, task.id)).toMatchObject({ status: "failed", attempts: 2, error: { error_code: "WORKER_LOST" } });
    const events = await store.events(task.id);
    checkEventLog(events);
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "WORKER_LOST" });
    expect(await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(300) })).toBeUndefined();
  });

  it("retries after the delay with a retry event, and release hands back without counting", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: null, maxAttempts: 3 });
    const first = await claimNow(store);
    expect(await store.retry(first, { error: { error_code: "GRAPH_ERROR", message: "boom" }, delayMs: 800 })).toBe("ok");
    expect(await store.get(task.id)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await store.events(task.id)).at(-1)).toMatchObject({ type: "retry", seq: 1, attempt: 1, error: "boom", error_code: "GRAPH_ERROR", delay_ms: 800 });
    expect(await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(200) })).toBeUndefined();
    const startedWaiting = Date.now();
    const second = await claimNow(store);
    expect(Date.now() - startedWaiting).toBeGreaterThan(300);
    expect(second.task.attempts).toBe(2);
    expect(await store.release(second)).toBe("ok");
    expect(await store.get(task.id)).toMatchObject({ status: "pending", attempts: 1 });
    expect((await claimNow(store)).task.attempts).toBe(2);
  });

  it("cancelling a running task answers it cancelled at once, fires the holder's signal and fences the attempt", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: null });
    const lease = await claimNow(store);
    expect(await store.cancel(task.id)).toMatchObject({ status: "cancelled", error: { error_code: "CANCELLED" } });
    await until(() => lease.signal.aborted);
    expect(lease.signal.reason).toMatchObject({ code: "CANCELLED" });
    expect((await store.renew(lease, 10_000)).cancelRequested).toBe(true);
    // The attempt still running is fenced: its events and late result are discarded.
    expect(await store.appendEvents(lease, [{ type: "data", ts: Date.now(), node: "n", chunk: "late" }])).toBe(false);
    expect(await store.complete(lease, "done anyway")).toBe("cancelled");
    expect(await store.get(task.id)).toMatchObject({ status: "cancelled", result: null, error: { error_code: "CANCELLED" } });
    checkEventLog(await store.events(task.id));
  });

  it("ends a running task cancelled when its worker died before seeing the cancel", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: null });
    await claimNow(store, SHORT_LEASE);
    expect(await store.cancel(task.id)).toMatchObject({ status: "cancelled" });
    expect(await sweptOut(store, task.id)).toMatchObject({ status: "cancelled", error: { error_code: "CANCELLED" } });
    checkEventLog(await store.events(task.id));
    expect(await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(300) })).toBeUndefined();
  });

  it("prunes terminal tasks beyond the retained count and older than the retention age", async () => {
    const backend = await fresh();
    const store = await backend.open({ maxRetained: 2 });
    const done: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { task } = await store.submit({ graph: "g", version: 1, input: i });
      await store.complete(await claimNow(store), i);
      done.push(task.id);
    }
    const { task: pending } = await store.submit({ graph: "g", version: 1, input: "pending" });
    expect(await store.prune()).toBe(2);
    expect(await store.get(done[0] as string)).toBeUndefined();
    expect(await store.get(done[1] as string)).toBeUndefined();
    expect(await store.events(done[0] as string)).toEqual([]);
    expect((await store.get(done[3] as string))?.status).toBe("completed");
    expect((await store.get(pending.id))?.status).toBe("pending");
    expect((await store.list()).tasks.map((t) => t.id)).toEqual([pending.id, done[3], done[2]]);

    // The two survivors may age out at different polls, so count across prunes rather than per prune.
    const aging = await backend.open({ retentionMs: 200 });
    let pruned = 0;
    await until(async () => (pruned += await aging.prune()) >= 2);
    expect(pruned).toBe(2);
    expect(await aging.get(done[2] as string)).toBeUndefined();
    expect(await aging.get(done[3] as string)).toBeUndefined();
    expect((await aging.get(pending.id))?.status).toBe("pending");
  });
}
