/** Conformance: checkpoints, interrupts and resume (durable runs). */
import { expect, it } from "vitest";
import { IdempotencyMismatchError, TaskConflictError, type Lease, type TaskEventInput, type TaskStore } from "../../../src/tasks/index.js";
import type { Checkpoint } from "../../../src/graph/interrupt.js";
import type { Fresh } from "./conformance.js";
import { checkEventLog } from "./helpers.js";

async function claimNow(store: TaskStore, leaseMs = 10_000): Promise<Lease> {
  const lease = await store.claim({ leaseMs, signal: AbortSignal.timeout(5_000) });
  if (!lease) throw new Error("expected a task to claim");
  return lease;
}

const cp = (next: string, step: number, shared: unknown, resume: unknown[] = []): Checkpoint => ({ next_node: next, step, shared, params: {}, resume });

export function durableCases(fresh: Fresh): void {
  it("stores the latest checkpoint (fenced), serves it as state, and hands it to the next claim", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, maxAttempts: 2, backoffMs: 0 });
    expect(await store.state(task.id)).toBeNull();
    const lease = await claimNow(store);
    expect(lease.task.checkpoint).toBeNull();
    expect(await store.checkpoint(lease, cp("b", 1, { log: ["a"] }))).toBe(true);
    expect(await store.checkpoint(lease, cp("c", 2, { log: ["a", "b"] }))).toBe(true);
    expect(await store.state(task.id)).toEqual(cp("c", 2, { log: ["a", "b"] }));
    expect(await store.retry(lease, { error: { error_code: "GRAPH_ERROR", message: "x" }, delayMs: 0 })).toBe("ok");
    expect(await store.checkpoint(lease, cp("zz", 9, {}))).toBe(false);
    expect(await store.checkpoint(lease, cp("zz", 9, {}), [{ type: "data", ts: 1, node: "late", chunk: 1 }])).toBe(false);
    // Another process (a restarted worker) claims it and continues from the checkpoint.
    const again = await claimNow(await backend.open());
    expect(again.task.checkpoint).toEqual(cp("c", 2, { log: ["a", "b"] }));
    expect(await store.state(task.id, { owner: "someone-else" })).toBeUndefined();
    expect(await store.state("no-such-task")).toBeUndefined();
  });

  it("stores a node's events with its checkpoint, in order after the events appended before", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {} });
    const lease = await claimNow(store);
    expect(await store.appendEvents(lease, [{ type: "node_start", ts: 1, node: "a" }])).toBe(true);
    const events: TaskEventInput[] = [{ type: "node_end", ts: 2, node: "a", action: "default", duration_ms: 1 }, { type: "data", ts: 3, node: "a", chunk: "x" }];
    expect(await store.checkpoint(lease, cp("b", 1, { log: ["a"] }), events)).toBe(true);
    expect(await store.checkpoint(lease, cp("c", 2, { log: ["a", "b"] }), [])).toBe(true);
    expect(await store.appendEvents(lease, [{ type: "node_start", ts: 4, node: "c" }])).toBe(true);
    expect(await store.complete(lease, { ok: true })).toBe("ok");
    const stored = await store.events(task.id);
    expect(stored.map((e) => [e.seq, e.type])).toEqual([[1, "node_start"], [2, "node_end"], [3, "data"], [4, "node_start"], [5, "result"]]);
    checkEventLog(stored);
    expect(await store.state(task.id)).toEqual(cp("c", 2, { log: ["a", "b"] }));
  });

  it("keeps call order for writes issued in one turn: appends, a checkpoint with its events, an interrupt", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {} });
    const lease = await claimNow(store);
    // Nothing awaited in between, as a run thread's messages arrive in one turn.
    const first = await Promise.all([
      store.appendEvents(lease, [{ type: "start", ts: 1, run_id: "r" }]),
      store.appendEvents(lease, [{ type: "node_start", ts: 2, node: "a" }]),
      store.checkpoint(lease, cp("b", 1, { log: ["a"] }), [{ type: "node_end", ts: 3, node: "a", action: "default", duration_ms: 1 }]),
      store.appendEvents(lease, [{ type: "node_start", ts: 4, node: "b" }]),
    ]);
    expect(first).toEqual([true, true, true, true]);
    const ending = await Promise.all([
      store.appendEvents(lease, [{ type: "data", ts: 5, node: "b", chunk: 1 }]),
      store.interrupt(lease, { node: "b", value: "ok?", checkpoint: cp("b", 1, { log: ["a"] }) }),
    ]);
    expect(ending).toEqual([true, "ok"]);
    const stored = await store.events(task.id);
    expect(stored.map((e) => [e.seq, e.type])).toEqual([[1, "start"], [2, "node_start"], [3, "node_end"], [4, "node_start"], [5, "data"], [6, "interrupt"]]);
    expect(await store.get(task.id)).toMatchObject({ status: "interrupted", interrupt: { node: "b", value: "ok?" } });
  });

  it("interrupt → interrupted (no lease, survives a restart) → resume → pending with the answer → claim", async () => {
    const backend = await fresh();
    const store = await backend.open();
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, owner: "u1" });
    const lease = await claimNow(store);
    expect(await store.interrupt(lease, { node: "ask", value: { q: "ok?" }, checkpoint: cp("ask", 1, { n: 1 }) })).toBe("ok");
    const reopened = await backend.open();
    expect(await reopened.get(task.id)).toMatchObject({ status: "interrupted", interrupt: { node: "ask", value: { q: "ok?" } }, attempts: 1 });
    expect(await reopened.list({ status: "interrupted" })).toMatchObject({ tasks: [{ id: task.id }] });
    expect(await reopened.sweep()).toEqual({ requeued: 0, ended: 0 });
    // Holds no lease: the old lease writes nothing, nothing is claimable.
    expect(await store.appendEvents(lease, [{ type: "data", ts: 1, node: "n", chunk: 1 }])).toBe(false);
    expect(await reopened.claim({ leaseMs: 1000, signal: AbortSignal.timeout(300) })).toBeUndefined();
    const events = await reopened.events(task.id);
    expect(events.at(-1)).toMatchObject({ type: "interrupt", node: "ask", value: { q: "ok?" }, task_id: task.id });

    expect(await reopened.resume(task.id, true, { owner: "u2" })).toBeUndefined();
    const resumed = await reopened.resume(task.id, { approved: true }, { owner: "u1", idempotencyKey: "k1" });
    expect(resumed).toMatchObject({ replayed: false, task: { status: "pending", interrupt: null } });
    // Same key and value: the same answer again; the key with another value: a mismatch.
    expect(await reopened.resume(task.id, { approved: true }, { owner: "u1", idempotencyKey: "k1" })).toMatchObject({ replayed: true, task: { id: task.id } });
    await expect(reopened.resume(task.id, { approved: false }, { owner: "u1", idempotencyKey: "k1" })).rejects.toBeInstanceOf(IdempotencyMismatchError);
    await expect(reopened.resume(task.id, { approved: true }, { owner: "u1" })).rejects.toBeInstanceOf(TaskConflictError);
    const next = await claimNow(reopened);
    expect(next.task).toMatchObject({ id: task.id, attempts: 2, resumes: 1, checkpoint: cp("ask", 1, { n: 1 }, [{ approved: true }]) });
    expect(await reopened.complete(next, { done: true })).toBe("ok");
    expect(await reopened.get(task.id)).toMatchObject({ status: "completed", interrupt: null, result: { done: true } });
    checkEventLog(await reopened.events(task.id));
  });

  it("an interrupted task can be cancelled; a sync run's interrupt is stored as an interrupted task", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: { a: 1 }, interrupted: { node: "ask", value: "sure?", checkpoint: cp("ask", 0, { input: { a: 1 } }) } });
    expect(task).toMatchObject({ status: "interrupted", attempts: 1, interrupt: { node: "ask", value: "sure?" } });
    expect(await store.events(task.id)).toMatchObject([{ type: "interrupt", seq: 1, node: "ask", value: "sure?", task_id: task.id }]);
    expect(await store.state(task.id)).toEqual(cp("ask", 0, { input: { a: 1 } }));
    expect(await store.cancel(task.id)).toMatchObject({ status: "cancelled", interrupt: null });
    await expect(store.resume(task.id, "yes")).rejects.toBeInstanceOf(TaskConflictError);
  });

  it("concurrent resumes of one interrupted task: exactly one wins, the others are conflicts", async () => {
    const backend = await fresh();
    const stores = [await backend.open(), await backend.open(), await backend.open()];
    const { task } = await stores[0]!.submit({ graph: "g", version: 1, input: {}, interrupted: { node: "ask", value: 1, checkpoint: cp("ask", 0, {}) } });
    const outcomes = await Promise.allSettled(stores.flatMap((store, i) => [store.resume(task.id, `a${i}`), store.resume(task.id, `b${i}`)]));
    const won = outcomes.filter((o) => o.status === "fulfilled");
    expect(won).toHaveLength(1);
    for (const lost of outcomes.filter((o) => o.status === "rejected")) expect(lost.reason).toBeInstanceOf(TaskConflictError);
    const claimed = await claimNow(stores[1]!);
    expect(claimed.task.checkpoint?.resume).toHaveLength(1);
    expect(claimed.task.resumes).toBe(1);
    expect(await stores[1]!.claim({ leaseMs: 1000, signal: AbortSignal.timeout(300) })).toBeUndefined();
  });

  it("prunes interrupted tasks after their own retention", async () => {
    const backend = await fresh();
    const keep = await backend.open({ retentionMs: 1 });
    const { task } = await keep.submit({ graph: "g", version: 1, input: {}, interrupted: { node: "n", value: 1, checkpoint: cp("n", 0, {}) } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    // The terminal-task retention does not apply to interrupted tasks…
    await keep.prune();
    expect(await keep.get(task.id)).toBeDefined();
    // …their own one does.
    const short = await backend.open({ interruptedRetentionMs: 1 });
    expect(await short.prune()).toBe(1);
    expect(await short.get(task.id)).toBeUndefined();
  });
}
