/** Conformance: submit, get, list, owner scoping, idempotency, cancel of pending tasks. */
import { expect, it } from "vitest";
import { IdempotencyMismatchError, InvalidCursorError, TaskConflictError } from "../../../src/tasks/index.js";
import type { Fresh } from "./conformance.js";
import { until } from "./helpers.js";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function apiCases(fresh: Fresh): void {
  it("submits a pending task and reads back the public record", async () => {
    const store = await (await fresh()).open();
    const { task, replayed } = await store.submit({ graph: "g", version: 2, input: { secret: 1 }, owner: "alice", requestId: "req-1" });
    expect(replayed).toBe(false);
    expect(task).toEqual({
      id: expect.any(String), graph: "g", version: 2, status: "pending", created_at: expect.stringMatching(ISO), started_at: null,
      completed_at: null, attempts: 0, result: null, error: null, request_id: "req-1", owner: "alice", interrupt: null,
    });
    expect(Object.keys(task)).not.toContain("input");
    expect(await store.get(task.id)).toEqual(task);
    expect(await store.get("no-such-task")).toBeUndefined();
  });

  it("lists newest first, pages with an opaque cursor, and filters", async () => {
    const store = await (await fresh()).open();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.submit({ graph: i % 2 ? "b" : "a", version: 1, input: i, owner: i % 2 ? "bob" : "alice" })).task.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await store.list({ limit: 2, cursor });
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);
    expect((await store.list({ graph: "a" })).tasks.map((t) => t.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await store.list({ owner: "bob" })).tasks.map((t) => t.id)).toEqual([ids[3], ids[1]]);
    await store.cancel(ids[2] as string);
    expect((await store.list({ status: "cancelled" })).tasks.map((t) => t.id)).toEqual([ids[2]]);
    expect((await store.list({ status: "pending", graph: "a", owner: "alice" })).tasks.map((t) => t.id)).toEqual([ids[4], ids[0]]);
    const filteredPage = await store.list({ graph: "a", limit: 1 });
    expect((await store.list({ graph: "a", limit: 5, cursor: filteredPage.next_cursor })).tasks.map((t) => t.id)).toEqual([ids[2], ids[0]]);
    await expect(store.list({ cursor: "not-a-cursor" })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(store.list({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
  });

  it("hides other owners' tasks from get, list and cancel", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: null, owner: "alice" });
    expect(await store.get(task.id, { owner: "bob" })).toBeUndefined();
    expect(await store.get(task.id, { owner: "alice" })).toEqual(task);
    expect(await store.cancel(task.id, { owner: "bob" })).toBeUndefined();
    expect((await store.get(task.id))?.status).toBe("pending");
    expect((await store.list({ owner: "bob" })).tasks).toEqual([]);
    expect((await store.list({ owner: null })).tasks).toEqual([]);
  });

  it("replays an idempotency key with the same request and refuses a different one", async () => {
    const store = await (await fresh()).open();
    const first = await store.submit({ graph: "g", version: 1, input: { a: 1, b: 2 }, idempotencyKey: "k1", owner: "alice" });
    const again = await store.submit({ graph: "g", version: 1, input: { b: 2, a: 1 }, idempotencyKey: "k1", owner: "alice" });
    expect(again).toEqual({ task: first.task, replayed: true });
    const mismatch = await store.submit({ graph: "g", version: 1, input: { a: 2 }, idempotencyKey: "k1", owner: "alice" }).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(IdempotencyMismatchError);
    expect(mismatch).toMatchObject({ code: "IDEMPOTENCY_MISMATCH", status: 422, taskId: first.task.id });
    const otherOwner = await store.submit({ graph: "g", version: 1, input: { a: 1, b: 2 }, idempotencyKey: "k1", owner: "bob" });
    expect(otherOwner.replayed).toBe(false);
    expect(otherOwner.task.id).not.toBe(first.task.id);
    const explicit = await store.submit({ graph: "g", version: 1, input: "x", idempotencyKey: "k2", fingerprint: "body-hash-1" });
    expect((await store.submit({ graph: "g", version: 1, input: "other", idempotencyKey: "k2", fingerprint: "body-hash-1" })).task.id).toBe(explicit.task.id);
    expect((await store.list()).tasks).toHaveLength(3);
  });

  it("creates exactly one task for 50 concurrent submits with one key", async () => {
    const store = await (await fresh()).open();
    const results = await Promise.all(Array.from({ length: 50 }, () => store.submit({ graph: "g", version: 1, input: { n: 1 }, idempotencyKey: "same" })));
    expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect((await store.list()).tasks).toHaveLength(1);
  });

  it("forgets an idempotency key after its TTL", async () => {
    const store = await (await fresh()).open({ idempotencyTtlMs: 300 });
    const first = await store.submit({ graph: "g", version: 1, input: 1, idempotencyKey: "ttl" });
    expect((await store.submit({ graph: "g", version: 1, input: 1, idempotencyKey: "ttl" })).replayed).toBe(true);
    const later = await until(async () => {
      const r = await store.submit({ graph: "g", version: 1, input: 1, idempotencyKey: "ttl" });
      return !r.replayed && r;
    });
    expect(later.task.id).not.toBe(first.task.id);
    expect((await store.submit({ graph: "g", version: 1, input: 1, idempotencyKey: "ttl" })).task.id).toBe(later.task.id);
  });

  it("cancels a pending task at once with one terminal event; a terminal task is a conflict", async () => {
    const store = await (await fresh()).open();
    const { task } = await store.submit({ graph: "g", version: 1, input: null });
    const cancelled = await store.cancel(task.id);
    expect(cancelled).toMatchObject({ id: task.id, status: "cancelled", completed_at: expect.stringMatching(ISO), error: { error_code: "CANCELLED" }, result: null });
    expect(await store.events(task.id)).toEqual([{ type: "error", seq: 1, ts: expect.any(Number), error: expect.any(String), error_code: "CANCELLED" }]);
    const conflict = await store.cancel(task.id).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(TaskConflictError);
    expect(conflict).toMatchObject({ code: "CONFLICT", status: 409 });
    expect(await store.cancel("no-such-task")).toBeUndefined();
    expect((await store.get(task.id))?.status).toBe("cancelled");
  });
}
