/**
 * Recovery paths only the Redis backend has: BullMQ's stall limit mapped to WORKER_LOST, a task record
 * whose BullMQ job never got written (the submitter died in between) being enqueued again, and the BullMQ
 * side of interrupts (an interrupted task has no job; a stale one is discarded, never run).
 */
import { Queue } from "bullmq";
import { afterEach, beforeAll, expect, it } from "vitest";
import { BullmqTaskStore, type BullmqTaskStoreOptions } from "../../../src/tasks/bullmq-store.js";
import { assertRedis, deleteKeys, TEST_REDIS_URL, uniquePrefix } from "../../helpers/redis.js";
import { TEST_SETTINGS, until } from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
beforeAll(() => assertRedis());
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(options: Partial<BullmqTaskStoreOptions> = {}) {
  const prefix = uniquePrefix();
  const errors: unknown[] = [];
  const store = await BullmqTaskStore.open({ ...TEST_SETTINGS, onError: (e) => errors.push(e), ...options, url: TEST_REDIS_URL, prefix });
  cleanups.push(() => deleteKeys(prefix), () => store.close());
  return { store, prefix, errors };
}

it("fails a task with WORKER_LOST when BullMQ's stall limit fails its job (no sweeper involved)", async () => {
  const { store, errors } = await open({ maxLost: 1 });
  const { task } = await store.submit({ graph: "g", version: 1, input: null });
  // Two claims that never renew: BullMQ's stalled checker hands the job on once, then fails it.
  const first = await store.claim({ leaseMs: 500, signal: AbortSignal.timeout(5000) });
  const second = await store.claim({ leaseMs: 500, signal: AbortSignal.timeout(5000) });
  expect(second?.task).toMatchObject({ id: task.id, attempts: 2, lost: 1 });
  expect(first?.token).not.toBe(second?.token);
  // The next fetch meets the job BullMQ marked as failed; the store records WORKER_LOST.
  const failed = await until(async () => {
    await store.claim({ leaseMs: 500, signal: AbortSignal.timeout(300) });
    const current = await store.get(task.id);
    return current?.status === "failed" && current;
  });
  expect(failed.error).toMatchObject({ error_code: "WORKER_LOST" });
  expect((await store.events(task.id)).at(-1)).toMatchObject({ type: "error", error_code: "WORKER_LOST" });
  expect(errors).toEqual([]);
});

it("enqueues again a pending task whose BullMQ job is missing", async () => {
  const { store, prefix, errors } = await open({ orphanAfterMs: 0 });
  const { task } = await store.submit({ graph: "g", version: 1, input: null });
  const queue = new Queue("tasks", { connection: { url: TEST_REDIS_URL }, prefix: `${prefix}:bull` });
  cleanups.push(() => queue.close());
  expect(await queue.remove(task.id)).toBe(1);
  expect(await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(300) })).toBeUndefined();
  await store.sweep();
  expect((await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(5000) }))?.task.id).toBe(task.id);
  expect(errors).toEqual([]);
});

it("an interrupted task holds no BullMQ job; a stale job of it is discarded; resume enqueues a fresh one", async () => {
  const { store, prefix, errors } = await open({ orphanAfterMs: 0 });
  const queue = new Queue("tasks", { connection: { url: TEST_REDIS_URL }, prefix: `${prefix}:bull` });
  cleanups.push(() => queue.close());
  const { task } = await store.submit({ graph: "g", version: 1, input: null });
  const lease = await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(5000) });
  if (!lease) throw new Error("expected a claim");
  const checkpoint = { next_node: "ask", step: 1, shared: { n: 1.5, list: [] }, params: {}, resume: [] };
  expect(await store.interrupt(lease, { node: "ask", value: "ok?", checkpoint })).toBe("ok");
  // Not active, waiting, delayed, completed or failed: the job is gone (nothing stalls back or counts as failed).
  expect(await queue.getJob(task.id)).toBeUndefined();
  expect(await queue.getJobCounts("active", "waiting", "delayed", "completed", "failed")).toMatchObject({ active: 0, waiting: 0, delayed: 0, completed: 0, failed: 0 });
  // A job left behind anyway (e.g. its move failed after the interrupt): the claim discards it, the sweeper does not revive the task.
  await queue.add("task", null, { jobId: task.id, removeOnComplete: true, removeOnFail: true });
  expect(await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(500) })).toBeUndefined();
  expect(await store.sweep()).toEqual({ requeued: 0, ended: 0 });
  expect(await store.get(task.id)).toMatchObject({ status: "interrupted", attempts: 1 });
  expect(await queue.getJob(task.id)).toBeUndefined();
  // The shared store survives byte for byte (no Lua JSON re-encoding: [] stays [], 1.5 stays 1.5).
  await store.resume(task.id, { yes: true });
  const next = await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(5000) });
  expect(next?.task.checkpoint).toEqual({ ...checkpoint, resume: [{ yes: true }] });
  expect(errors).toEqual([]);
});

it("discards a BullMQ job that has no task record (a submit whose script failed after its job went out)", async () => {
  const { store, prefix, errors } = await open();
  const queue = new Queue("tasks", { connection: { url: TEST_REDIS_URL }, prefix: `${prefix}:bull` });
  cleanups.push(() => queue.close());
  await queue.add("task", null, { jobId: "no-such-task", removeOnComplete: true, removeOnFail: true });
  const { task } = await store.submit({ graph: "g", version: 1, input: { real: true } });
  // The record-less job comes first and is dropped; the claim goes on to the real task.
  const lease = await store.claim({ leaseMs: 5000, signal: AbortSignal.timeout(5000) });
  expect(lease?.task).toMatchObject({ id: task.id, input: { real: true } });
  expect(await queue.getJob("no-such-task")).toBeUndefined();
  expect(await store.get("no-such-task")).toBeUndefined();
  expect(errors).toEqual([]);
});

it("a holder whose lease moved on ends fenced without touching the new holder's job; no error is reported", async () => {
  const { store, errors } = await open();
  const { task } = await store.submit({ graph: "g", version: 1, input: null });
  const stale = await store.claim({ leaseMs: 500, signal: AbortSignal.timeout(5000) });
  // BullMQ's stalled checker hands the job on once the stale lock expires.
  const owner = await store.claim({ leaseMs: 500, signal: AbortSignal.timeout(5000) });
  expect(owner?.task).toMatchObject({ id: task.id, attempts: 2 });
  if (!stale || !owner) throw new Error("expected two claims");
  expect(await store.complete(stale, "stale")).toBe("fenced");
  expect(await store.fail(stale, { error_code: "GRAPH_ERROR", message: "stale" })).toBe("fenced");
  expect(await store.complete(owner, "fresh")).toBe("ok");
  expect(await store.get(task.id)).toMatchObject({ status: "completed", result: "fresh" });
  expect(errors).toEqual([]);
});
