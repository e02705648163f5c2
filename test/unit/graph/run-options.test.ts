import { describe, expect, it } from "vitest";
import { AbortError, END, Graph, MaxStepsError, Node, ParallelBatchNode, type RunEvent } from "../../../src/index.js";
import { Step, collectEvents, type Store } from "./helpers.js";

describe("abort", () => {
  it("stops the graph between nodes", async () => {
    const controller = new AbortController();
    class AbortAfter extends Node<Store> {
      override post(shared: Store) {
        shared.log.push("first");
        controller.abort();
      }
    }
    const first = new AbortAfter();
    first.next(new Step("second"));
    const shared: Store = { log: [] };
    const err = await new Graph(first).run(shared, { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).code).toBe("ABORTED");
    expect(shared.log).toEqual(["first"]);
  });

  it("rejects at once when the signal is already aborted", async () => {
    const shared: Store = { log: [] };
    await expect(new Graph(new Step("a")).run(shared, { signal: AbortSignal.abort("gone") })).rejects.toBeInstanceOf(AbortError);
    expect(shared.log).toEqual([]);
  });

  it("interrupts wait between retries and does not call the fallback", async () => {
    const controller = new AbortController();
    let fallbackCalled = false;
    class Fails extends Node {
      override exec(): never {
        setTimeout(() => controller.abort(new Error("cancelled by test")), 5);
        throw new Error("x");
      }
      override execFallback() {
        fallbackCalled = true;
      }
    }
    const started = performance.now();
    const err = await new Fails({ maxRetries: 3, wait: 10 }).run({}, { signal: controller.signal }).catch((e: unknown) => e);
    expect(AbortError.is(err)).toBe(true);
    expect((err as Error).message).toContain("cancelled by test");
    expect(performance.now() - started).toBeLessThan(5000);
    expect(fallbackCalled).toBe(false);
  });

  it("is visible as this.signal inside nodes, and a never-firing signal without one", async () => {
    let seen: AbortSignal | undefined;
    class Watch extends Node {
      override async exec() {
        seen = this.signal;
        await new Promise<void>((resolve, reject) => {
          if (this.signal.aborted) reject(new Error("aborted"));
          this.signal.addEventListener("abort", () => reject(new AbortError(this.signal.reason)));
        });
      }
    }
    const controller = new AbortController();
    const running = new Watch().run({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expect(seen).toBe(controller.signal);

    class Peek extends Node {
      override exec() {
        seen = this.signal;
      }
    }
    await new Peek().run({});
    expect(seen).toBeInstanceOf(AbortSignal);
    expect(seen!.aborted).toBe(false);
    expect(new Node().signal.aborted).toBe(false);
    // A signal of another implementation (a polyfill, another realm) is handed through as it is, and its
    // abort stops the run between steps.
    const foreign = { aborted: false, reason: undefined as unknown, addEventListener() {}, removeEventListener() {} } as unknown as AbortSignal;
    await new Peek().run({}, { signal: foreign });
    expect(seen).toBe(foreign);
    Object.assign(foreign, { aborted: true, reason: new Error("stopped elsewhere") });
    await expect(new Peek().run({}, { signal: foreign })).rejects.toThrow("stopped elsewhere");
  });
});

describe("maxSteps", () => {
  it("ends a runaway loop with MAX_STEPS, counting nested graph steps", async () => {
    class Forever extends Node {
      override post() {
        return "again";
      }
    }
    const f = new Forever();
    f.on("again", f);
    const err = await new Graph(f).run({}, { maxSteps: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaxStepsError);
    expect((err as MaxStepsError).code).toBe("MAX_STEPS");

    // outer: a (1) → inner graph (2) → i1 (3) → i2 (4) → b (5)
    const inner = new Graph(new Step("i1"));
    (inner.startNode as Node).next(new Step("i2"));
    const a = new Step("a");
    a.next(inner).next(new Step("b"));
    await expect(new Graph(a).run({ log: [] }, { maxSteps: 5 })).resolves.toBeUndefined();
    await expect(new Graph(a).run({ log: [] }, { maxSteps: 4 })).rejects.toBeInstanceOf(MaxStepsError);
    await expect(new Graph().run({}, { maxSteps: 0 })).rejects.toThrow(RangeError);
  });
});

describe("maxSteps blame", () => {
  it("names the node the guard stopped, not the nested graph around it", async () => {
    class Ping extends Node {
      override post() {
        return "again";
      }
    }
    // outer steps: sub (1), then a (2), b (3), a (4) … so step 11 is b.
    const a = new Ping({ nodeId: "a" });
    const b = new Ping({ nodeId: "b" });
    a.on("again", b);
    b.on("again", a);
    const sub = new Graph(a, { nodeId: "sub" });
    const { events, onEvent } = collectEvents();
    const err = await new Graph(sub).run({}, { maxSteps: 10, onEvent }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MaxStepsError);
    expect((err as MaxStepsError).node).toBe("b");
    expect((err as Error).message).toContain('exceeded maxSteps (10) before node "b"');
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "MAX_STEPS", node: "b" });
  });
});

describe("events", () => {
  it("emits start, node events, data and one terminal result with gapless seq", async () => {
    class Talk extends Node<Store> {
      override exec() {
        this.emit("tok1");
        this.emit({ token: "tok2" });
      }
      override post() {
        return "next";
      }
    }
    const talk = new Talk({ nodeId: "talk" });
    talk.on("next", new Step("end", "fin"));
    const { events, onEvent } = collectEvents();
    await new Graph(talk).run({ log: [] }, { onEvent, runId: "run-1" });
    expect(events.map((e) => e.type)).toEqual(["start", "node_start", "data", "data", "node_end", "node_start", "node_end", "result"]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(events[0]).toMatchObject({ type: "start", run_id: "run-1" });
    expect(events[2]).toMatchObject({ type: "data", node: "talk", chunk: "tok1" });
    expect(events[4]).toMatchObject({ type: "node_end", node: "talk", action: "next" });
    expect(events[6]).toMatchObject({ type: "node_end", node: "end", action: "fin" });
    expect(events[7]).toMatchObject({ type: "result", result: "fin" });
    for (const e of events) expect(typeof e.ts).toBe("number");
    expect((events[4] as Extract<RunEvent, { type: "node_end" }>).duration_ms).toBeGreaterThanOrEqual(0);
  });

  it("a failed run ends with one error event naming the failing node, and nothing follows it", async () => {
    class Boom extends ParallelBatchNode {
      override prep() {
        return [1, 2];
      }
      override async exec(i: number) {
        if (i === 1) throw new Error("kaput");
        await new Promise((r) => setTimeout(r, 20));
        this.emit("late chunk");
      }
    }
    const first = new Step("first");
    first.next(new Boom({ nodeId: "boom" }));
    const { events, onEvent } = collectEvents();
    await expect(new Graph(first).run({ log: [] }, { onEvent })).rejects.toThrow("kaput");
    await new Promise((r) => setTimeout(r, 40));
    const last = events.at(-1)!;
    expect(last).toMatchObject({ type: "error", error: "kaput", error_code: "GRAPH_ERROR", node: "boom" });
    expect(events.filter((e) => e.type === "error" || e.type === "result")).toHaveLength(1);
    expect(events.some((e) => e.type === "data")).toBe(false);
  });

  it("uses runtime codes for aborts and max steps", async () => {
    const { events, onEvent } = collectEvents();
    await new Graph(new Step("a")).run({ log: [] }, { onEvent, signal: AbortSignal.abort() }).catch(() => undefined);
    expect(events.map((e) => e.type)).toEqual(["start", "error"]);
    expect(events[1]).toMatchObject({ error_code: "ABORTED" });
  });

  it("a direct Node.run is one step with node events", async () => {
    const { events, onEvent } = collectEvents();
    await new Step("solo", "x").run({ log: [] }, { onEvent });
    expect(events.map((e) => e.type)).toEqual(["start", "node_start", "node_end", "result"]);
  });

  it("a listener that throws does not fail the run", async () => {
    const warn = process.emitWarning;
    const warnings: string[] = [];
    process.emitWarning = ((w: string) => void warnings.push(String(w))) as typeof process.emitWarning;
    try {
      const a = new Step("a", "done");
      a.on("done", END);
      await expect(new Graph(a).run({ log: [] }, { onEvent: () => { throw new Error("listener broke"); } })).resolves.toBe("done");
    } finally {
      process.emitWarning = warn;
    }
    expect(warnings.some((w) => w.includes("listener broke"))).toBe(true);
  });

  it("emit outside a run is a no-op", () => {
    expect(() => new Node().emit("x")).not.toThrow();
  });
});
