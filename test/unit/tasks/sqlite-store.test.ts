/** The conformance suite against the embedded backend: a real SQLite file in a temp dir. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import type { Checkpoint } from "../../../src/graph/interrupt.js";
import { SELECT_FENCE_ROW, Statements } from "../../../src/tasks/sqlite-schema.js";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import { eventBody } from "../../../src/tasks/sqlite-transitions.js";
import type { TaskEventInput, TaskStore } from "../../../src/tasks/index.js";
import { describeTaskStore } from "./conformance.js";
import { TEST_SETTINGS, type Backend } from "./helpers.js";

describeTaskStore("sqlite", async (): Promise<Backend> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-tasks-"));
  const file = path.join(dir, ".kaygraph", "kaygraph.db");
  const stores: TaskStore[] = [];
  const errors: unknown[] = [];
  return {
    name: "sqlite",
    errors,
    childEnv: { KG_TEST_BACKEND: "sqlite", KG_TEST_DB: file },
    async open(settings = {}) {
      const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: (e) => errors.push(e), ...settings, file });
      stores.push(store);
      return store;
    },
    async dispose() {
      for (const store of stores) await store.close();
      if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(dir, { recursive: true, force: true });
    },
  };
});

/** A store on a fresh file, closed and removed when the test finishes. */
async function storeForThisTest(prefix: string): Promise<SqliteTaskStore> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file: path.join(dir, "kg.db") });
  onTestFinished(() => store.close());
  return store;
}

describe("sqlite: a submit while this process's claimer waits", () => {
  /** Resolves once the store's claimer has found nothing and waits for a ring. */
  const claimerWaits = (store: SqliteTaskStore) =>
    vi.waitFor(() => {
      if ((store as unknown as { waitingClaim?: unknown }).waitingClaim === undefined) throw new Error("the claimer does not wait yet");
    });
  const commits = (store: SqliteTaskStore) => (store as unknown as { writes: { stats: { commits: number } } }).writes.stats.commits;

  it("is claimed in the submit's own commit, up to the claimer's room; the rest stay pending for the next claim", async () => {
    const store = await storeForThisTest("kaygraph-tasks-claim-submit-");
    const claiming = store.claimBatch({ leaseMs: 5000, signal: AbortSignal.timeout(5000) }, 2);
    await claimerWaits(store);
    const before = commits(store);
    const submitted = await Promise.all([1, 2, 3].map((n) => store.submit({ graph: "g", version: 1, input: { n } })));
    // One transaction created the three tasks and claimed two: running as soon as their submits resolved.
    expect(commits(store) - before).toBe(1);
    const statuses = await Promise.all(submitted.map(({ task }) => store.get(task.id).then((t) => t?.status)));
    expect(statuses).toEqual(["running", "running", "pending"]);
    const leases = await claiming;
    expect(leases.map((l) => l.task.id)).toEqual(submitted.slice(0, 2).map(({ task }) => task.id));
    expect(leases.every((l) => l.task.attempts === 1)).toBe(true);
    // The third is claimed by the next claim, as any pending task.
    const next = await store.claimBatch({ leaseMs: 5000, signal: AbortSignal.timeout(5000) }, 2);
    expect(next.map((l) => l.task.id)).toEqual([submitted[2]?.task.id]);
    for (const lease of [...leases, ...next]) expect(await store.complete(lease, { ok: true })).toBe("ok");
  });

  it("hands the claimed leases over even when the claimer is stopped while that commit is queued", async () => {
    const store = await storeForThisTest("kaygraph-tasks-claim-stop-");
    const stop = new AbortController();
    const claiming = store.claimBatch({ leaseMs: 5000, signal: stop.signal }, 4);
    await claimerWaits(store);
    const submitted = store.submit({ graph: "g", version: 1, input: {} });
    stop.abort();
    const { task } = await submitted;
    // The claim committed with the submit: its lease comes back (the runner releases it), never lost.
    const leases = await claiming;
    expect(leases.map((l) => l.task.id)).toEqual([task.id]);
    expect(await store.release(leases[0]!)).toBe("ok");
    expect(await store.get(task.id)).toMatchObject({ status: "pending", attempts: 0 });
  });

  it("an idle claimer without a submit of its own still wakes on another process's ring", async () => {
    const store = await storeForThisTest("kaygraph-tasks-claim-ring-");
    const other = SqliteTaskStore.open({ ...TEST_SETTINGS, pollMs: 60_000, onError: () => undefined, file: (store as unknown as { settings: { file: string } }).settings.file });
    onTestFinished(() => other.close());
    const claiming = other.claimBatch({ leaseMs: 5000, signal: AbortSignal.timeout(5000) }, 2);
    await claimerWaits(other);
    const { task } = await store.submit({ graph: "g", version: 1, input: {} });
    expect((await claiming).map((l) => l.task.id)).toEqual([task.id]);
  });
});

describe("sqlite: fenced writes", () => {
  it("events and checkpoints during a run read no task row (one fencing UPDATE); a transition reads the fence columns, not the whole row", async () => {
    const store = await storeForThisTest("kaygraph-tasks-fence-");
    await store.submit({ graph: "g", version: 1, input: { big: "x".repeat(1000) } });
    const lease = await store.claim({ leaseMs: 5000 });
    expect(lease).toBeDefined();
    const whole = vi.spyOn(Statements.prototype, "task");
    const prepared = vi.spyOn(Statements.prototype, "prepare");
    onTestFinished(() => {
      vi.restoreAllMocks();
    });
    const reads = () => prepared.mock.calls.map(([sql]) => sql).filter((sql) => /^SELECT .* FROM kg_tasks/.test(sql));
    expect(await store.appendEvents(lease!, [{ type: "data", ts: 1, node: "n", chunk: 1 } as TaskEventInput])).toBe(true);
    expect(await store.checkpoint(lease!, { shared: {}, next_node: "n", step: 1, resume: [] } as unknown as Checkpoint)).toBe(true);
    expect(whole).not.toHaveBeenCalled();
    expect(reads()).toEqual([]);
    expect(await store.complete(lease!, { ok: true })).toBe("ok");
    expect(whole).not.toHaveBeenCalled();
    expect(reads()).toEqual([SELECT_FENCE_ROW]);
    expect(SELECT_FENCE_ROW).not.toMatch(/input|checkpoint|result/);
    expect((await store.get(lease!.task.id))?.status).toBe("completed");
    // A write under a lease that ended is fenced off.
    expect(await store.appendEvents(lease!, [{ type: "data", ts: 2, node: "n", chunk: 2 } as TaskEventInput])).toBe(false);
  });
});

describe("sqlite: event seqs of a lease", () => {
  it("stay contiguous after a write of the lease fails (the next writes read the seq from the row)", async () => {
    const store = await storeForThisTest("kaygraph-tasks-seq-");
    const { task } = await store.submit({ graph: "g", version: 1, input: {} });
    const lease = (await store.claim({ leaseMs: 5000 }))!;
    const event = (chunk: unknown): TaskEventInput => ({ type: "data", ts: 1, node: "n", chunk }) as TaskEventInput;
    const checkpoint = { shared: {}, next_node: "n", step: 1, resume: [] } as unknown as Checkpoint;
    // The second write throws inside its transaction (a BigInt has no JSON form) and is rolled back; the writes
    // queued after it in the same group took their seqs before it failed.
    const writes = [
      store.appendEvents(lease, [event(1)]),
      store.appendEvents(lease, [event(2n)]),
      store.checkpoint(lease, checkpoint, [event(3), event(4)]),
      store.appendEvents(lease, [event(5)]),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(await store.appendEvents(lease, [event(6)])).toBe(true);
    expect(await store.complete(lease, null)).toBe("ok");
    const events = await store.events(task.id);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(events.map((e) => (e as { chunk?: unknown }).chunk)).toEqual([1, 3, 4, 5, 6, undefined]);
    expect((await store.state(task.id))?.next_node).toBe("n");
  });
});

describe("sqlite: stored events", () => {
  it("an event's body is the text of the event with its seq last (as a spread would give), built without one", () => {
    const events = [
      { type: "node_start", ts: 5, node: "n1" },
      { type: "data", ts: 6, node: "n", chunk: { text: 'q"uote\u2028', list: [1, null, "é"] } },
      { type: "node_end", ts: 7, node: "n", action: "default", duration_ms: 0.25 },
      {},
    ] as unknown as TaskEventInput[];
    for (const [i, event] of events.entries()) {
      expect(eventBody(event, i + 1)).toBe(JSON.stringify({ ...event, seq: i + 1 }));
      expect(JSON.parse(eventBody(event, i + 1))).toEqual({ ...event, seq: i + 1 });
    }
    // Not from the runner, but a caller of the public store may pass them: one seq, always a JSON object.
    class Odd {
      type = "data";
      toJSON() {
        return ["x"];
      }
    }
    const odd = [{ type: "data", ts: 1, seq: 9 }, new Odd()] as unknown as TaskEventInput[];
    for (const event of odd) {
      expect(eventBody(event, 3)).toBe(JSON.stringify({ ...event, seq: 3 }));
      expect(JSON.parse(eventBody(event, 3))).toMatchObject({ seq: 3 });
    }
  });

  it("a write of many events (several rows per statement, a partial last statement) stores each once, in order", async () => {
    const store = await storeForThisTest("kaygraph-tasks-rows-");
    const { task } = await store.submit({ graph: "g", version: 1, input: {} });
    const lease = (await store.claim({ leaseMs: 5000 }))!;
    const batch = (from: number, count: number): TaskEventInput[] => Array.from({ length: count }, (_, i) => ({ type: "data", ts: 1, node: "n", chunk: from + i }) as TaskEventInput);
    expect(await store.appendEvents(lease, batch(1, 19))).toBe(true);
    expect(await store.checkpoint(lease, { shared: {}, next_node: "n", step: 1, resume: [] } as unknown as Checkpoint, batch(20, 8))).toBe(true);
    expect(await store.appendEvents(lease, batch(28, 1))).toBe(true);
    expect(await store.complete(lease, { ok: true })).toBe("ok");
    const events = await store.events(task.id);
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 29 }, (_, i) => i + 1));
    expect(events.slice(0, 28).map((e) => (e as { chunk?: unknown }).chunk)).toEqual(Array.from({ length: 28 }, (_, i) => i + 1));
    expect(events[28]).toMatchObject({ type: "result", result: { ok: true }, seq: 29 });
  });
});
