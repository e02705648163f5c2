import { describe, expect, it } from "vitest";
import { AbortError, BatchFlow, BatchGraph, BatchNode, Graph, Node, ParallelBatchFlow, ParallelBatchGraph, ParallelBatchNode, type RunEvent } from "../../../src/index.js";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("BatchNode", () => {
  it("runs exec per item in order and gives post the results", async () => {
    const order: number[] = [];
    class Square extends BatchNode<{ nums: number[]; out?: number[] }> {
      override prep(shared: { nums: number[] }) {
        return shared.nums;
      }
      override async exec(n: number) {
        await tick(3 - n);
        order.push(n);
        return n * n;
      }
      override post(shared: { out?: number[] }, _items: number[], results: number[]) {
        shared.out = results;
      }
    }
    const shared: { nums: number[]; out?: number[] } = { nums: [1, 2, 3] };
    await new Square().run(shared);
    expect(shared.out).toEqual([1, 4, 9]);
    expect(order).toEqual([1, 2, 3]);
  });

  it("treats nothing as no items and accepts iterables", async () => {
    const got: unknown[] = [];
    class Items extends BatchNode<{ items: unknown }> {
      override prep(shared: { items: unknown }) {
        return shared.items;
      }
      override exec(x: unknown) {
        return x;
      }
      override post(_s: unknown, _p: unknown, results: unknown[]) {
        got.push(results);
      }
    }
    await new Items().run({ items: undefined });
    await new Items().run({ items: new Set(["a", "b"]) });
    expect(got).toEqual([[], ["a", "b"]]);
    await expect(new Items().run({ items: 5 })).rejects.toThrow(/array or iterable/);
  });

  it("retries per item with its own budget and fallback; a failing item aborts the batch", async () => {
    const attempts = new Map<number, number>();
    class Flaky extends BatchNode {
      override prep() {
        return [1, 2, 3];
      }
      override exec(n: number) {
        attempts.set(n, (attempts.get(n) ?? 0) + 1);
        if (n === 2 && attempts.get(n)! < 2) throw new Error("flaky 2");
        if (n === 3) throw new Error("always 3");
        return n;
      }
      override execFallback(n: number) {
        return -n;
      }
      override post(shared: Record<string, unknown>, _p: unknown, r: number[]) {
        shared.r = r;
      }
    }
    const shared: Record<string, unknown> = {};
    await new Flaky({ maxRetries: 2 }).run(shared);
    expect(shared.r).toEqual([1, 2, -3]);
    expect([...attempts.entries()]).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
    ]);

    const later: number[] = [];
    class Aborts extends BatchNode {
      override prep() {
        return [1, 2, 3];
      }
      override exec(n: number) {
        if (n === 2) throw new Error("stop at 2");
        later.push(n);
      }
    }
    await expect(new Aborts().run({})).rejects.toThrow("stop at 2");
    expect(later).toEqual([1]);
  });
});

describe("ParallelBatchNode", () => {
  it("runs items concurrently and keeps input order", async () => {
    const finished: number[] = [];
    class Slow extends ParallelBatchNode {
      override prep() {
        return [30, 10, 20];
      }
      override async exec(ms: number) {
        await tick(ms);
        finished.push(ms);
        return ms * 2;
      }
      override post(shared: Record<string, unknown>, _p: unknown, r: number[]) {
        shared.r = r;
      }
    }
    const shared: Record<string, unknown> = {};
    await new Slow().run(shared);
    expect(shared.r).toEqual([60, 20, 40]);
    expect(finished).toEqual([10, 20, 30]);
  });

  it("honours the concurrency cap exactly", async () => {
    let inFlight = 0;
    let peak = 0;
    class Capped extends ParallelBatchNode {
      override prep() {
        return Array.from({ length: 20 }, (_, i) => i);
      }
      override async exec(i: number) {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await tick(2);
        inFlight--;
        return i;
      }
      override post(shared: Record<string, unknown>, _p: unknown, r: number[]) {
        shared.r = r;
      }
    }
    const shared: Record<string, unknown> = {};
    await new Capped({ concurrency: 3 }).run(shared);
    expect(peak).toBe(3);
    expect(shared.r).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(() => new ParallelBatchNode({ concurrency: 0 })).toThrow(RangeError);
  });

  it("rejects with the first error and starts no new item after it", async () => {
    const started: number[] = [];
    class Fails extends ParallelBatchNode {
      override prep() {
        return [1, 2, 3, 4, 5, 6];
      }
      override async exec(i: number) {
        started.push(i);
        await tick(i === 2 ? 1 : 20);
        if (i === 2) throw new Error("item 2 failed");
        return i;
      }
    }
    await expect(new Fails({ concurrency: 2 }).run({})).rejects.toThrow("item 2 failed");
    await tick(50);
    expect(started).toEqual([1, 2]);
  });
});

describe("BatchGraph", () => {
  it("runs the sub-graph once per param object, in order, merging graph params", async () => {
    const seen: unknown[] = [];
    class Record_ extends Node<{ out: string[] }> {
      override prep() {
        seen.push({ ...this.params });
      }
      override post(shared: { out: string[] }) {
        shared.out.push(String(this.params.file));
      }
    }
    class PerFile extends BatchGraph<{ out: string[] }> {
      override prep() {
        return [{ file: "a" }, { file: "b" }];
      }
    }
    const g = new PerFile(new Record_());
    g.setParams({ run: 7 });
    const shared = { out: [] as string[] };
    await expect(g.run(shared)).resolves.toBeUndefined();
    expect(shared.out).toEqual(["a", "b"]);
    expect(seen).toEqual([
      { run: 7, file: "a" },
      { run: 7, file: "b" },
    ]);
    expect(BatchFlow).toBe(BatchGraph);
  });

  it("nests: the outer item reaches the inner batch graph's prep, inner items merge with it", async () => {
    const seen: string[] = [];
    class Leaf extends Node {
      override prep() {
        seen.push(`${String(this.params.group)}/${String(this.params.item)}`);
      }
    }
    class Inner extends BatchGraph {
      override prep() {
        return [{ item: `${String(this.params.group)}1` }, { item: `${String(this.params.group)}2` }];
      }
    }
    class Outer extends BatchGraph {
      override prep() {
        return [{ group: "x" }, { group: "y" }];
      }
    }
    await new Outer(new Inner(new Leaf())).run({});
    expect(seen).toEqual(["x/x1", "x/x2", "y/y1", "y/y2"]);
  });

  it("resolves to what its post returns and stops at the first failing item", async () => {
    class Fails extends Node {
      override exec() {
        if (this.params.i === 1) throw new Error("item 1");
      }
      override post(shared: { done: number[] }) {
        shared.done.push(this.params.i as number);
      }
    }
    class B extends BatchGraph<{ done: number[] }> {
      override prep() {
        return [{ i: 0 }, { i: 1 }, { i: 2 }];
      }
      override post() {
        return "all";
      }
    }
    const shared = { done: [] as number[] };
    await expect(new B(new Fails()).run(shared)).rejects.toThrow("item 1");
    expect(shared.done).toEqual([0]);
    class Ok extends BatchGraph {
      override prep() {
        return [{}];
      }
      override post() {
        return "all";
      }
    }
    await expect(new Ok(new Node()).run({})).resolves.toBe("all");
  });
});

describe("ParallelBatchGraph", () => {
  it("runs param sets concurrently with isolated params and a common shared store", async () => {
    class Work extends Node<{ results: Record<string, number> }> {
      override async exec() {
        await tick(Number(this.params.delay));
        return Number(this.params.delay);
      }
      override post(shared: { results: Record<string, number> }, _p: unknown, r: number) {
        shared.results[String(this.params.key)] = r;
      }
    }
    class P extends ParallelBatchGraph<{ results: Record<string, number> }> {
      override prep() {
        return [
          { key: "a", delay: 20 },
          { key: "b", delay: 5 },
          { key: "c", delay: 10 },
        ];
      }
    }
    const shared = { results: {} as Record<string, number> };
    const start = performance.now();
    await new P(new Work()).run(shared);
    expect(shared.results).toEqual({ a: 20, b: 5, c: 10 });
    expect(performance.now() - start).toBeLessThan(30 + 200);
    expect(ParallelBatchFlow).toBe(ParallelBatchGraph);
  });

  it("honours its concurrency cap and an aggregator after it sees every branch's writes", async () => {
    let inFlight = 0;
    let peak = 0;
    class Work extends Node<{ done: number[] }> {
      override async exec() {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await tick(2);
        inFlight--;
      }
      override post(shared: { done: number[] }) {
        shared.done.push(this.params.i as number);
      }
    }
    class P extends ParallelBatchGraph<{ done: number[] }> {
      override prep() {
        return Array.from({ length: 10 }, (_, i) => ({ i }));
      }
    }
    class Aggregate extends Node<{ done: number[]; total?: number }> {
      override prep(shared: { done: number[] }) {
        return shared.done.length;
      }
      override post(shared: { total?: number }, n: number) {
        shared.total = n;
      }
    }
    const p = new P(new Work(), { concurrency: 4 });
    p.next(new Aggregate());
    const shared: { done: number[]; total?: number } = { done: [] };
    await new Graph(p).run(shared);
    expect(peak).toBe(4);
    expect(shared.total).toBe(10);
  });
});

describe("abort inside batches", () => {
  /** The run's AbortError, whatever it rejected with. */
  const failure = (run: Promise<unknown>) => run.then(() => "resolved", (e: unknown) => e);

  it("a sequential BatchNode starts no item after the signal fires and rejects with the abort", async () => {
    const controller = new AbortController();
    const ran: number[] = [];
    let posted = false;
    class Items extends BatchNode {
      override prep() {
        return [1, 2, 3, 4];
      }
      override async exec(n: number) {
        ran.push(n);
        await Promise.resolve();
        if (n === 2) controller.abort(new Error("stopped by test"));
        return n;
      }
      override post() {
        posted = true;
      }
    }
    const err = await failure(new Items().run({}, { signal: controller.signal }));
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).message).toContain("stopped by test");
    expect(ran).toEqual([1, 2]);
    expect(posted).toBe(false);
  });

  it("an abort during the last item still rejects, and the error event reads ABORTED like an abort between nodes", async () => {
    const controller = new AbortController();
    class Last extends BatchNode {
      override prep() {
        return ["a", "b"];
      }
      override exec(item: string) {
        if (item === "b") controller.abort();
      }
    }
    const events: RunEvent[] = [];
    const first = new Last({ nodeId: "last" });
    const err = await failure(new Graph(first).run({}, { signal: controller.signal, onEvent: (e) => void events.push(e) }));
    expect(err).toBeInstanceOf(AbortError);
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "ABORTED", node: "last" });
  });

  it("a ParallelBatchNode rejects with the abort once its items settle instead of resolving", async () => {
    const controller = new AbortController();
    const settled: number[] = [];
    let posted = false;
    class All extends ParallelBatchNode {
      override prep() {
        return [1, 2, 3, 4];
      }
      override async exec(n: number) {
        await Promise.resolve();
        if (n === 2) controller.abort();
        await Promise.resolve();
        settled.push(n);
        return n;
      }
      override post() {
        posted = true;
      }
    }
    const err = await failure(new All().run({}, { signal: controller.signal }));
    expect(err).toBeInstanceOf(AbortError);
    expect(settled.sort()).toEqual([1, 2, 3, 4]);
    expect(posted).toBe(false);
  });

  it("a capped ParallelBatchNode starts no item after the abort", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    class Capped extends ParallelBatchNode {
      override prep() {
        return [1, 2, 3, 4, 5, 6];
      }
      override async exec(n: number) {
        started.push(n);
        if (n === 2) controller.abort();
        await Promise.resolve();
        return n;
      }
    }
    await expect(new Capped({ concurrency: 2 }).run({}, { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
    expect(started).toEqual([1, 2]);
  });

  it("batch graphs stop their sub-graph runs after the abort, sequential or parallel", async () => {
    for (const Batch of [BatchGraph, ParallelBatchGraph]) {
      const controller = new AbortController();
      const seen: string[] = [];
      class First extends Node {
        override post() {
          seen.push(`first${String(this.params.i)}`);
          if (this.params.i === 1) controller.abort();
        }
      }
      class Second extends Node {
        override post() {
          seen.push(`second${String(this.params.i)}`);
        }
      }
      class Items extends Batch {
        override prep() {
          return [{ i: 1 }, { i: 2 }, { i: 3 }];
        }
      }
      const first = new First();
      first.next(new Second());
      await expect(new Items(first).run({}, { signal: controller.signal })).rejects.toBeInstanceOf(AbortError);
      expect(seen).toEqual(["first1"]);
    }
  });
});

describe("ParallelBatchNode retries", () => {
  it("gives each concurrent item its own curRetry; afterwards curRetry is the highest attempt index", async () => {
    let retriedA!: () => void;
    const aRetried = new Promise<void>((resolve) => (retriedA = resolve));
    let attemptsA = 0;
    const seenByB: number[] = [];
    class Items extends ParallelBatchNode {
      override prep() {
        return ["a", "b"];
      }
      override async exec(item: string) {
        if (item === "a") {
          attemptsA++;
          if (attemptsA < 3) throw new Error("a fails twice");
          retriedA();
          return `a@${this.curRetry}`;
        }
        seenByB.push(this.curRetry);
        await aRetried;
        seenByB.push(this.curRetry);
        return `b@${this.curRetry}`;
      }
      override post(shared: { r?: string[] }, _p: unknown, r: string[]) {
        shared.r = r;
      }
    }
    const node = new Items({ maxRetries: 3 });
    const shared: { r?: string[] } = {};
    await node.run(shared);
    expect(shared.r).toEqual(["a@2", "b@0"]);
    expect(seenByB).toEqual([0, 0]);
    expect(node.curRetry).toBe(2);
  });
});
