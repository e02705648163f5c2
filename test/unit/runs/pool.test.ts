import { describe, expect, it, onTestFinished } from "vitest";
import { until } from "../../helpers/load.js";
import { ThreadPool, type PoolJob, type ThreadEnd } from "../../../src/runs/threads/pool.js";

const SCRIPT = { url: new URL("./fixtures/pool-thread.mjs", import.meta.url), argv: [] };

/** A job that records what reaches it. */
function job(id: number) {
  const seen: { messages: unknown[]; end?: ThreadEnd; received?: boolean; unsent?: unknown } = { messages: [] };
  let settle!: () => void;
  const done = new Promise<void>((resolve) => (settle = resolve));
  const value: PoolJob = {
    id,
    onMessage: (m) => {
      seen.messages.push(m);
      settle();
    },
    onUnsent: (error) => {
      seen.unsent = error;
      settle();
    },
    onThreadEnd: (end, received) => {
      seen.end = end;
      seen.received = received;
      settle();
    },
  };
  return { job: value, seen, done };
}

async function startPool(size: number, extra: Partial<ConstructorParameters<typeof ThreadPool>[0]> = {}) {
  const ended: Array<{ threadId: number; end: ThreadEnd; jobs: number }> = [];
  const pool = new ThreadPool({ size, script: SCRIPT, onThreadEnd: (threadId, end, jobs) => ended.push({ threadId, end, jobs }), ...extra });
  onTestFinished(() => pool.close());
  await pool.start();
  return { pool, ended };
}

describe("run thread pool", () => {
  it("starts every thread warm, places by least load, and routes messages to their job", async () => {
    const { pool } = await startPool(3);
    expect(pool.size).toBe(3);
    const jobs = [1, 2, 3, 4].map(job);
    const threads = jobs.map((j) => pool.place(j.job));
    // Three threads, four jobs: one per thread first, the fourth shares.
    expect(new Set(threads.slice(0, 3)).size).toBe(3);
    expect(pool.loads().sort()).toEqual([1, 1, 2]);
    jobs.forEach((j, i) => threads[i]!.dispatch(j.job, { do: "echo", job: j.job.id, value: `v${i}` }));
    await Promise.all(jobs.map((j) => j.done));
    expect(jobs.map((j) => (j.seen.messages[0] as { value: string }).value)).toEqual(["v0", "v1", "v2", "v3"]);
    jobs.forEach((j, i) => pool.release(threads[i]!, j.job));
    expect(pool.loads()).toEqual([0, 0, 0]);
  });

  it("terminates a spinning thread on demand: its jobs learn why, a replacement starts at once and takes new work", async () => {
    const { pool, ended } = await startPool(2);
    const spinner = job(1);
    const neighbour = job(2);
    const thread = pool.place(spinner.job);
    thread.dispatch(spinner.job, { do: "spin", job: 1 });
    // Once the spinner's thread has been silent a while, new work goes elsewhere…
    await until(() => thread.stalled(performance.now()), "the spinning thread to look stalled");
    const busy = job(3);
    expect(pool.place(busy.job)).not.toBe(thread);
    const also = job(5);
    expect(pool.place(also.job)).not.toBe(thread);
    // …and an order queued behind the spinner is never taken in.
    thread.add(neighbour.job);
    thread.dispatch(neighbour.job, { do: "echo", job: 2, value: "queued" });
    thread.terminate("run 1 did not stop after its timeout", 1);
    expect(thread.ending).toBe(true);
    // The dying thread gets no new work even though its load is what it was.
    const fresh = job(4);
    const placed = pool.place(fresh.job);
    expect(placed).not.toBe(thread);
    await Promise.all([spinner.done, neighbour.done]);
    expect(spinner.seen.end).toEqual({ kind: "terminated", reason: "run 1 did not stop after its timeout", job: 1 });
    expect(spinner.seen.received).toBe(true);
    expect(neighbour.seen.end).toMatchObject({ kind: "terminated", job: 1 });
    expect(neighbour.seen.received).toBe(false);
    expect(neighbour.seen.messages).toEqual([]);
    expect(ended).toHaveLength(1);
    expect(ended[0]?.jobs).toBe(1);
    expect(pool.size).toBe(2);
    placed.dispatch(fresh.job, { do: "echo", job: 4, value: "after" });
    await fresh.done;
    expect(fresh.seen.messages).toEqual([{ type: "done", job: 4, value: "after" }]);
  });

  it("process.exit() and an uncaught error in a thread end only that thread, reported as crashed", async () => {
    const { pool } = await startPool(2);
    const exiting = job(1);
    pool.place(exiting.job).dispatch(exiting.job, { do: "exit", job: 1, code: 7 });
    await exiting.done;
    expect(exiting.seen.end).toMatchObject({ kind: "crashed", exitCode: 7 });
    expect(exiting.seen.received).toBe(true);
    const throwing = job(2);
    pool.place(throwing.job).dispatch(throwing.job, { do: "throw", job: 2 });
    await throwing.done;
    expect(throwing.seen.end).toMatchObject({ kind: "crashed", message: "thrown in the thread" });
    const after = job(3);
    pool.place(after.job).dispatch(after.job, { do: "echo", job: 3, value: 1 });
    await after.done;
    expect(after.seen.messages).toHaveLength(1);
  });

  it("a thread past its heap limit ends out-of-memory; the process lives", async () => {
    const { pool, ended } = await startPool(1, { resourceLimits: { maxOldGenerationSizeMb: 24 } });
    const leaking = job(1);
    pool.place(leaking.job).dispatch(leaking.job, { do: "leak", job: 1 });
    await leaking.done;
    expect(leaking.seen.end?.kind).toBe("out-of-memory");
    expect(ended[0]?.end.kind).toBe("out-of-memory");
    const after = job(2);
    pool.place(after.job).dispatch(after.job, { do: "echo", job: 2, value: "alive" });
    await after.done;
    expect(after.seen.messages).toEqual([{ type: "done", job: 2, value: "alive" }]);
  });

  it("orders of one event loop turn go out in one message; an order that cannot be cloned fails only its job", async () => {
    const { pool } = await startPool(1);
    const [before, bad, after] = [1, 2, 3].map(job);
    const thread = pool.place(before!.job);
    pool.place(bad!.job);
    pool.place(after!.job);
    thread.dispatch(before!.job, { do: "echo", job: 1, value: "first" });
    thread.dispatch(bad!.job, { do: "echo", job: 2, value: () => "a function cannot be cloned" });
    thread.dispatch(after!.job, { do: "echo", job: 3, value: "third" });
    await Promise.all([before, bad, after].map((j) => j!.done));
    expect(bad!.seen.unsent).toBeInstanceOf(Error);
    expect(bad!.seen.messages).toEqual([]);
    expect(pool.loads()).toEqual([2]);
    expect([before, after].map((j) => j!.seen.messages)).toEqual([[{ type: "done", job: 1, value: "first" }], [{ type: "done", job: 3, value: "third" }]]);
    // The thread counted two orders taken in: both sent jobs are known as received, so a thread end reports them ran.
    expect([before, after].map((j) => thread.received(j!.job))).toEqual([true, true]);
  });

  it("broadcast: every thread answers; a thread's error rejects and the data is taken back; a thread that ends meanwhile counts as done, its replacement starting on the new data", async () => {
    const { pool } = await startPool(2, { workerData: { generation: 0 } });
    await pool.broadcast({ type: "control", do: "control" }, { generation: 1 });
    expect(pool.data).toEqual({ generation: 1 });
    await expect(pool.broadcast({ type: "control", do: "control", fail: true }, { generation: 2 })).rejects.toThrow("cannot reload");
    expect(pool.data).toEqual({ generation: 1 });

    const { pool: hanging } = await startPool(2, { workerData: { hang: true } });
    const broadcast = hanging.broadcast({ type: "control", do: "control" }, { hang: false });
    // Both threads never answer; each is terminated (as for a run's timeout) and replaced on the new data.
    const threads = () => (hanging as unknown as { threads: Array<{ terminate(reason: string): void }> }).threads;
    for (const thread of [...threads()]) thread.terminate("a run timed out");
    await expect(broadcast).resolves.toBeUndefined();
    expect(hanging.data).toEqual({ hang: false });
  });

  it("start rejects when a thread cannot load; close ends every thread and refuses new work", async () => {
    const broken = new ThreadPool({ size: 1, script: SCRIPT, workerData: { failLoad: true } });
    await expect(broken.start()).rejects.toThrow("cannot load");
    await broken.close();
    const { pool } = await startPool(2);
    const waiting = job(1);
    pool.place(waiting.job).dispatch(waiting.job, { do: "wait", job: 1, ms: 60_000 });
    await pool.close();
    expect(waiting.seen.end).toEqual({ kind: "terminated", reason: "The server is shutting down." });
    expect(() => pool.place(job(2).job)).toThrow(/closed/);
    expect(() => new ThreadPool({ size: 0, script: SCRIPT })).toThrow(RangeError);
  });
});
