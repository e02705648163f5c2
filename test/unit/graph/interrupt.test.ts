import { describe, expect, it, vi } from "vitest";
import {
  BatchNode, CheckpointError, Graph, GraphInterrupt, Node, ParallelBatchGraph, findNonJson, nodeKeys,
  type Checkpoint, type RunEvent,
} from "../../../src/index.js";
import { checkpointFromText, checkpointHead, checkpointJson, checkpointText } from "../../../src/graph/checkpoint.js";
import { collectEvents } from "./helpers.js";

interface Shared {
  log: string[];
  answers?: unknown[];
  [key: string]: unknown;
}

/** Logs its id in post; counts every prep in `runs` (shared across copies). */
class Log extends Node<Shared> {
  constructor(
    id: string,
    readonly runs: Record<string, number> = {},
  ) {
    super({ nodeId: id });
  }
  override prep() {
    this.runs[this.nodeId] = (this.runs[this.nodeId] ?? 0) + 1;
  }
  override post(shared: Shared) {
    shared.log.push(this.nodeId);
  }
}

/** Asks `questions` in order (in `phase`), storing the answers. */
class Ask extends Node<Shared> {
  constructor(
    id: string,
    readonly questions: unknown[],
    readonly phase: "prep" | "exec" | "post" = "post",
    readonly runs: Record<string, number> = {},
  ) {
    super({ nodeId: id, maxRetries: 3 });
  }
  private ask(): unknown[] {
    return this.questions.map((q) => this.interrupt(q));
  }
  override prep(shared: Shared) {
    this.runs[this.nodeId] = (this.runs[this.nodeId] ?? 0) + 1;
    shared.log.push(`${this.nodeId}:prep`);
    return this.phase === "prep" ? this.ask() : undefined;
  }
  override exec(prepRes: unknown) {
    return this.phase === "exec" ? this.ask() : prepRes;
  }
  override post(shared: Shared, prepRes: unknown, execRes: unknown) {
    shared.answers = this.phase === "post" ? this.ask() : (execRes as unknown[]);
    void prepRes;
  }
}

async function interruptOf(run: Promise<unknown>): Promise<GraphInterrupt> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GraphInterrupt);
  return error as GraphInterrupt;
}

describe("this.interrupt()", () => {
  for (const phase of ["prep", "exec", "post"] as const) {
    it(`in ${phase}: stops the run, then returns the resume value when the run is resumed`, async () => {
      const runs: Record<string, number> = {};
      const a = new Log("a", runs);
      a.next(new Ask("ask", [{ q: "ok?" }], phase, runs)).next(new Log("c", runs));
      const graph = new Graph(a);
      const first = await interruptOf(graph.run({ log: [] }, { checkpoint: true }));
      expect(first.code).toBe("INTERRUPTED");
      expect(first.value).toEqual({ q: "ok?" });
      expect(first.node).toBe("ask");
      expect(first.checkpoint).toMatchObject({ next_node: "ask", step: 1, resume: [] });
      // The checkpoint is the store as it was before the interrupted node ran (its prep's write is not in it).
      expect(first.checkpoint.shared).toEqual({ log: ["a"] });
      const shared = first.checkpoint.shared as Shared;
      await graph.run(shared, first.resumeWith("yes"));
      expect(shared.answers).toEqual(["yes"]);
      expect(shared.log).toEqual(["a", "ask:prep", "c"]);
      // The node before the interrupt ran once; the interrupted node again from prep; exec retries never saw it.
      expect(runs).toEqual({ a: 1, ask: 2, c: 1 });
    });
  }

  it("matches several calls in one node to resume values by order", async () => {
    const graph = new Graph(new Ask("ask", ["first?", "second?"]));
    const one = await interruptOf(graph.run({ log: [] }));
    expect(one.value).toBe("first?");
    const two = await interruptOf(graph.run(one.checkpoint.shared as Shared, one.resumeWith(1)));
    expect(two.value).toBe("second?");
    expect(two.checkpoint.resume).toEqual([1]);
    const shared = two.checkpoint.shared as Shared;
    await graph.run(shared, two.resumeWith(2));
    expect(shared.answers).toEqual([1, 2]);
  });

  it("scopes resume values to the resumed node: a later node's interrupt stops the run again", async () => {
    const first = new Ask("first", ["a?"]);
    first.next(new Ask("second", ["b?"]));
    const graph = new Graph(first);
    const one = await interruptOf(graph.run({ log: [] }, { checkpoint: true }));
    const two = await interruptOf(graph.run(one.checkpoint.shared as Shared, { ...one.resumeWith("A"), checkpoint: true }));
    expect(two.node).toBe("second");
    expect(two.value).toBe("b?");
    expect(two.checkpoint).toMatchObject({ next_node: "second", step: 1, resume: [], shared: { answers: ["A"] } });
  });

  it("is never retried, handed to execFallback or suppressed by onError", async () => {
    let fallback = 0;
    let onError = 0;
    class Asks extends Node {
      constructor() {
        super({ maxRetries: 5 });
      }
      override exec() {
        return this.interrupt("q");
      }
      override execFallback(): never {
        fallback++;
        throw new Error("fallback");
      }
      override onError() {
        onError++;
        return true;
      }
    }
    await interruptOf(new Graph(new Asks()).run({}));
    expect([fallback, onError]).toEqual([0, 0]);
  });

  it("ends the run with one terminal interrupt event", async () => {
    const { events, onEvent } = collectEvents();
    await interruptOf(new Graph(new Ask("ask", [{ draft: "d" }])).run({ log: [] }, { onEvent }));
    const last = events.at(-1) as RunEvent;
    expect(last).toMatchObject({ type: "interrupt", node: "ask", value: { draft: "d" } });
    expect(events.filter((e) => e.type === "result" || e.type === "error")).toEqual([]);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it("in a nested graph: the nested graph re-runs from its start on resume", async () => {
    const runs: Record<string, number> = {};
    const innerStart = new Log("inner-a", runs);
    innerStart.next(new Ask("inner-ask", ["?"], "post", runs));
    const inner = new Graph(innerStart, { nodeId: "inner" });
    const outer = new Log("outer-a", runs);
    outer.next(inner).next(new Log("outer-c", runs));
    const graph = new Graph(outer);
    const stop = await interruptOf(graph.run({ log: [] }, { checkpoint: true }));
    expect(stop.node).toBe("inner-ask");
    expect(stop.checkpoint.next_node).toBe("inner");
    const shared = stop.checkpoint.shared as Shared;
    await graph.run(shared, stop.resumeWith("!"));
    expect(shared.log).toEqual(["outer-a", "inner-a", "inner-ask:prep", "outer-c"]);
    expect(runs).toEqual({ "outer-a": 1, "inner-a": 2, "inner-ask": 2, "outer-c": 1 });
  });

  it("in a batch node: items are matched by order", async () => {
    class Review extends BatchNode<Shared> {
      override prep() {
        return ["x", "y"];
      }
      override exec(item: string) {
        return `${item}=${String(this.interrupt(`approve ${item}?`))}`;
      }
      override post(shared: Shared, _items: unknown, results: unknown[]) {
        shared.answers = results;
      }
    }
    const graph = new Graph(new Review());
    const one = await interruptOf(graph.run({ log: [] }));
    expect(one.value).toBe("approve x?");
    const two = await interruptOf(graph.run(one.checkpoint.shared as Shared, one.resumeWith(true)));
    expect(two.value).toBe("approve y?");
    const shared = two.checkpoint.shared as Shared;
    await graph.run(shared, two.resumeWith(false));
    expect(shared.answers).toEqual(["x=true", "y=false"]);
  });

  it("in a parallel batch graph at the top: the whole batch is one step, re-run on resume", async () => {
    class Item extends Node<Shared> {
      override post(shared: Shared) {
        shared.log.push(`${String(this.params.id)}:${String(this.interrupt(`ok ${String(this.params.id)}?`))}`);
      }
    }
    class Batch extends ParallelBatchGraph<Shared> {
      override prep() {
        return [{ id: 1 }];
      }
    }
    const graph = new Batch(new Item());
    const stop = await interruptOf(graph.run({ log: [] }, { checkpoint: true }));
    expect(stop.checkpoint).toMatchObject({ next_node: null, step: 0, shared: { log: [] } });
    const shared = stop.checkpoint.shared as Shared;
    await graph.run(shared, stop.resumeWith("yes"));
    expect(shared.log).toEqual(["1:yes"]);
  });

  it("on a single node run: resumes the node itself", async () => {
    const node = new Ask("solo", ["?"]);
    const stop = await interruptOf(node.run({ log: [] }));
    expect(stop.checkpoint.next_node).toBeNull();
    const shared = stop.checkpoint.shared as Shared;
    await node.run(shared, stop.resumeWith(42));
    expect(shared.answers).toEqual([42]);
  });

  it("throws outside a run", () => {
    expect(() => new Node().interrupt("x")).toThrow(/only while the node runs/);
  });
});

describe("checkpoints", () => {
  it("are taken before the first node and after every node of the top-level graph", async () => {
    const saved: Checkpoint[] = [];
    const a = new Log("a");
    a.next(new Log("b")).next(new Log("c"));
    await new Graph(a).setParams({ p: 1 }).run({ log: [] }, { checkpoint: (cp) => void saved.push(cp) });
    expect(saved.map((c) => [c.next_node, c.step, (c.shared as Shared).log])).toEqual([
      ["a", 0, []],
      ["b", 1, ["a"]],
      ["c", 2, ["a", "b"]],
    ]);
    expect(saved[0]?.params).toEqual({ p: 1 });
    // A store writes each one's text as made once by the run, equal to serialising it.
    for (const cp of saved) expect(checkpointText(cp)).toBe(JSON.stringify(cp));
    const changed = saved[1] as Checkpoint;
    changed.resume.push({ ok: true });
    expect(JSON.parse(checkpointText(changed))).toMatchObject({ next_node: "b", resume: [{ ok: true }] });
    // The text crosses threads; the object made from it answers the same text until it changes.
    const text = checkpointText(saved[2] as Checkpoint);
    const copy = checkpointFromText(text);
    expect(copy).toEqual(saved[2]);
    expect(checkpointText(copy)).toBe(text);
    copy.resume.push(1);
    expect(checkpointText(copy)).toBe(JSON.stringify(copy));
    // Any head field replaced (a store hook may edit one) also makes the text follow.
    for (const edit of [(c: Checkpoint) => (c.next_node = "a"), (c: Checkpoint) => (c.step = 9), (c: Checkpoint) => (c.params = { p: 2 }), (c: Checkpoint) => (c.resume = ["x"])]) {
      const edited = checkpointFromText(text);
      edit(edited);
      expect(checkpointText(edited)).toBe(JSON.stringify(edited));
    }
    // With its head sent along, the text is parsed only when the shared store is read.
    const parse = vi.spyOn(JSON, "parse");
    const lazy = checkpointFromText(text, checkpointHead(saved[2] as Checkpoint));
    expect([lazy.next_node, lazy.step, checkpointText(lazy)]).toEqual(["c", 2, text]);
    expect(parse).not.toHaveBeenCalled();
    expect(lazy).toEqual(saved[2]);
    expect(parse).toHaveBeenCalledTimes(1);
    parse.mockRestore();
  });

  it("a slow checkpoint store's wait is not the next node's time (node_start is stamped after it)", async () => {
    const a = new Log("a");
    a.next(new Log("b"));
    const events: RunEvent[] = [];
    const store = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 200));
    await new Graph(a).run({ log: [] }, { checkpoint: store, onEvent: (e) => void events.push(e) });
    const of = (type: string, node: string) => events.find((e) => e.type === type && "node" in e && e.node === node) as Extract<RunEvent, { type: "node_end" }>;
    // b's checkpoint (taken after a, before b) takes 200 ms to store; b itself does nothing.
    expect(of("node_start", "b").ts - of("node_end", "a").ts).toBeGreaterThanOrEqual(150);
    expect(of("node_end", "b").duration_ms).toBeLessThan(100);
  });

  it("look like plain checkpoints before their shared store is read, and answer a fresh text once it is replaced", async () => {
    const saved: Checkpoint[] = [];
    const a = new Log("a");
    a.next(new Log("b")).next(new Log("c"));
    await new Graph(a).run({ log: [] }, { checkpoint: (cp) => void saved.push(cp) });
    const [first, second, third] = saved as [Checkpoint, Checkpoint, Checkpoint];
    // Not read yet: serialising, spreading and cloning each see the store (and the same key order).
    expect(JSON.stringify(first)).toBe('{"next_node":"a","step":0,"shared":{"log":[]},"params":{},"resume":[]}');
    expect(checkpointText(first)).toBe(JSON.stringify(first));
    expect({ ...second }).toEqual({ next_node: "b", step: 1, shared: { log: ["a"] }, params: {}, resume: [] });
    expect(Object.keys(second)).toEqual(["next_node", "step", "shared", "params", "resume"]);
    expect(structuredClone(third)).toEqual({ next_node: "c", step: 2, shared: { log: ["a", "b"] }, params: {}, resume: [] });
    // Each read gives the same parsed copy; replacing the store (unread or read) makes the text follow it.
    expect(first.shared).toBe(first.shared);
    third.shared = { log: ["x"] };
    expect(JSON.parse(checkpointText(third))).toEqual({ next_node: "c", step: 2, shared: { log: ["x"] }, params: {}, resume: [] });
    first.shared = { log: ["y"] };
    expect(checkpointText(first)).toBe(JSON.stringify(first));
    expect(JSON.parse(checkpointText(first)).shared).toEqual({ log: ["y"] });
  });

  it("a run from a checkpoint continues at its node, with its step count and params", async () => {
    const runs: Record<string, number> = {};
    const seen: unknown[] = [];
    class Params extends Log {
      override post(shared: Shared) {
        seen.push(this.params);
        super.post(shared);
      }
    }
    const a = new Log("a", runs);
    a.next(new Log("b", runs)).next(new Params("c", runs));
    const shared: Shared = { log: ["a", "b"] };
    await new Graph(a).run(shared, { from: { next_node: "c", step: 2, shared, params: { p: 2 }, resume: [] }, maxSteps: 3 });
    expect(runs).toEqual({ c: 1 });
    expect(seen).toEqual([{ p: 2 }]);
    // Step counting goes on from the checkpoint: maxSteps 2 is exceeded at c.
    await expect(new Graph(a).run({ log: [] }, { from: { next_node: "c", step: 2, shared: {}, params: {}, resume: [] }, maxSteps: 2 })).rejects.toMatchObject({ code: "MAX_STEPS" });
  });

  it("a checkpoint naming an unknown node is a clear error", async () => {
    await expect(new Graph(new Log("a")).run({ log: [] }, { from: { next_node: "zz", step: 1, shared: {}, params: {}, resume: [] } })).rejects.toThrow(/names node "zz".*"a"/);
  });

  it("a shared store that does not round-trip through JSON fails with CHECKPOINT_FAILED naming the key", async () => {
    class PutDate extends Node {
      override post(shared: Record<string, unknown>) {
        shared.meta = { when: new Date(0) };
      }
    }
    const first = new PutDate();
    first.next(new Log("b"));
    const error = await new Graph(first).run({ log: [] }, { checkpoint: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error).toMatchObject({ code: "CHECKPOINT_FAILED", key: "shared.meta.when" });
  });

  it("are off by default: an interrupt then resumes on the live store", async () => {
    const stop = await interruptOf(new Graph(new Ask("ask", ["?"])).run({ log: [] }));
    expect(stop.checkpoint.shared).toEqual({ log: ["ask:prep"] });
  });
});

describe("findNonJson", () => {
  it("names the first value that does not round-trip", () => {
    expect(findNonJson({ a: 1, b: [true, null, "s"], c: { d: undefined } }, "shared")).toBeUndefined();
    expect(findNonJson({ a: [1, undefined] }, "shared")).toEqual(["shared.a[1]", expect.stringContaining("undefined")]);
    expect(findNonJson({ n: Number.NaN }, "shared")?.[0]).toBe("shared.n");
    expect(findNonJson({ m: new Map() }, "shared")?.[1]).toMatch(/Map/);
    expect(findNonJson({ "odd key": 1n }, "shared")?.[0]).toBe('shared["odd key"]');
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(findNonJson(loop, "shared")).toEqual(["shared.self", "is a circular reference"]);
    const same = { x: 1 };
    expect(findNonJson({ a: same, b: same }, "shared")).toBeUndefined();
    expect(findNonJson(Object.create(null) as object, "shared")).toBeUndefined();
    expect(findNonJson({ meta: { [Symbol("cache")]: 1 } }, "shared")).toEqual(["shared.meta[Symbol(cache)]", expect.stringContaining("symbol key")]);
  });
});

describe("checkpointJson", () => {
  it("gives JSON.stringify's text, and names the key of a value that does not round-trip as findNonJson does", () => {
    const store = { a: [1, "s", null], b: { c: true, d: undefined }, same: { x: 1 } };
    expect(checkpointJson({ ...store, again: store.same }, "shared")).toBe(JSON.stringify({ ...store, again: store.same }));
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    expect(() => checkpointJson({ loop }, "shared")).toThrow(new CheckpointError("shared.loop.self", "is a circular reference"));
    expect(() => checkpointJson({ when: new Date(0) }, "shared")).toThrow(CheckpointError);
    expect(() => checkpointJson({ n: 1n }, "shared")).toThrow(/shared\.n/);
  });

  it("finds a cycle that a toJSON hid from JSON.stringify, and takes a deep acyclic store", () => {
    // JSON.stringify takes this object (its toJSON answers for it), yet it does not round-trip; the cycle comes
    // before the toJSON key, so the walk meets the cycle first.
    const hidden: Record<string, unknown> = {};
    hidden.self = hidden;
    hidden.toJSON = () => "x";
    expect(JSON.stringify(hidden)).toBe('"x"');
    expect(() => checkpointJson({ hidden }, "shared")).toThrow(new CheckpointError("shared.hidden.self", "is a circular reference"));
    let deep: unknown = "leaf";
    for (let i = 0; i < 2000; i++) deep = [deep];
    expect(checkpointJson(deep, "shared")).toBe(JSON.stringify(deep));
  });
});

describe("nodeKeys", () => {
  it("names reachable nodes by nodeId, numbering repeats in wiring order", () => {
    const a = new Log("a");
    const b1 = new Log("b");
    const b2 = new Log("b");
    a.on("x", b1).on("y", b2);
    b1.next(a);
    expect([...nodeKeys(a).values()]).toEqual(["a", "b", "b#2"]);
  });
});
