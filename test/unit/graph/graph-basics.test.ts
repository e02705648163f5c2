import { afterEach, describe, expect, it } from "vitest";
import { END, Flow, Graph, Node } from "../../../src/index.js";
import { Step, captureWarnings, type Store } from "./helpers.js";

let warnings: ReturnType<typeof captureWarnings>;
afterEach(() => warnings?.restore());

describe("wiring", () => {
  it("next returns the target and on returns the source", () => {
    const a = new Step("a");
    const b = new Step("b");
    const c = new Step("c");
    expect(a.next(b)).toBe(b);
    expect(b.on("x", c)).toBe(b);
    expect(a.successors.get("default")).toBe(b);
    expect(b.successors.get("x")).toBe(c);
  });

  it("start returns the node and sets startNode", () => {
    const g = new Graph();
    const a = new Step("a");
    expect(g.start(a)).toBe(a);
    expect(g.startNode).toBe(a);
  });

  it("re-binding an action warns and the new target wins", () => {
    warnings = captureWarnings();
    const a = new Step("a");
    const b = new Step("b");
    const c = new Step("c");
    a.next(b, "go");
    a.next(c, "go");
    expect(a.successors.get("go")).toBe(c);
    expect(warnings.list).toEqual([expect.objectContaining({ code: "KG_SUCCESSOR_OVERWRITE" })]);
  });

  it("rejects a non-string action", () => {
    expect(() => new Step("a").next(new Step("b"), 3 as unknown as string)).toThrow(TypeError);
  });
});

describe("graph runs", () => {
  it("runs a linear chain and resolves to the last action", async () => {
    const g = new Graph();
    g.start(new Step("a")).next(new Step("b")).next(new Step("c", "finished"));
    const shared: Store = { log: [] };
    await expect(g.run(shared)).resolves.toBe("finished");
    expect(shared.log).toEqual(["a", "b", "c"]);
  });

  it("an empty graph runs nothing and resolves to undefined", async () => {
    await expect(new Graph().run({ log: [] })).resolves.toBeUndefined();
  });

  it("follows branches by action, with '' and undefined meaning default", async () => {
    class Decide extends Node<Store & { n: number }> {
      override post(shared: Store & { n: number }) {
        return shared.n > 0 ? "positive" : "";
      }
    }
    const build = () => {
      const d = new Decide();
      d.on("positive", new Step("pos")).on("default", new Step("zero-or-less"));
      return new Graph(d);
    };
    const s1 = { log: [], n: 5 };
    await build().run(s1);
    expect(s1.log).toEqual(["pos"]);
    const s2 = { log: [], n: 0 };
    await build().run(s2);
    expect(s2.log).toEqual(["zero-or-less"]);
  });

  it("runs loops, including a self-loop, until the action changes", async () => {
    class Count extends Node<Store & { n: number }> {
      override post(shared: Store & { n: number }) {
        shared.n += 1;
        shared.log.push(`n=${shared.n}`);
        return shared.n < 3 ? "again" : "done";
      }
    }
    const count = new Count();
    count.on("again", count).on("done", new Step("end"));
    const shared = { log: [] as string[], n: 0 };
    await new Graph(count).run(shared);
    expect(shared.log).toEqual(["n=1", "n=2", "n=3", "end"]);
  });

  it("a missing action ends the graph with a warning naming the action and the known ones", async () => {
    warnings = captureWarnings();
    const a = new Step("a", "nope");
    a.on("yes", new Step("b")).on("no", new Step("c"));
    const shared: Store = { log: [] };
    await expect(new Graph(a).run(shared)).resolves.toBe("nope");
    expect(shared.log).toEqual(["a"]);
    const ends = warnings.list.filter((w) => w.code === "KG_GRAPH_ENDS");
    expect(ends).toHaveLength(1);
    expect(ends[0]!.message).toContain("'nope'");
    expect(ends[0]!.message).toContain("'yes', 'no'");
  });

  it("a node without successors ends the graph silently", async () => {
    warnings = captureWarnings();
    await new Graph(new Step("a", "whatever")).run({ log: [] });
    expect(warnings.list).toEqual([]);
  });

  it("an edge bound to END ends the graph silently", async () => {
    warnings = captureWarnings();
    const a = new Step("a", "done");
    a.on("done", END).on("more", new Step("b"));
    const shared: Store = { log: [] };
    await expect(new Graph(a).run(shared)).resolves.toBe("done");
    expect(shared.log).toEqual(["a"]);
    expect(warnings.list).toEqual([]);
  });

  it("Node.run on a node with successors runs only that node and warns", async () => {
    warnings = captureWarnings();
    const a = new Step("a", "x");
    a.next(new Step("b"));
    const shared: Store = { log: [] };
    await expect(a.run(shared)).resolves.toBe("x");
    expect(shared.log).toEqual(["a"]);
    expect(warnings.list.map((w) => w.code)).toEqual(["KG_NODE_SUCCESSORS"]);
  });

  it("Flow is Graph and runAsync is run", async () => {
    expect(Flow).toBe(Graph);
    const shared: Store = { log: [] };
    await expect(new Flow(new Step("a", "z")).runAsync(shared)).resolves.toBe("z");
  });
});

describe("per-step copies", () => {
  it("each step runs a fresh copy: reassigned fields do not leak across steps or runs", async () => {
    class Counter extends Node<{ seen: number[] }> {
      count = 0;
      override post(shared: { seen: number[] }) {
        this.count += 1;
        shared.seen.push(this.count);
        return shared.seen.length < 3 ? "again" : "done";
      }
    }
    const c = new Counter();
    c.on("again", c).on("done", END);
    const g = new Graph(c);
    const s1 = { seen: [] as number[] };
    await g.run(s1);
    expect(s1.seen).toEqual([1, 1, 1]);
    expect(c.count).toBe(0);
  });

  it("mutable objects on the node are shared on purpose", async () => {
    class Collect extends Node {
      bag: string[] = [];
      override exec() {
        this.bag.push("x");
      }
    }
    const node = new Collect();
    await new Graph(node).run({});
    await new Graph(node).run({});
    expect(node.bag).toEqual(["x", "x"]);
  });

  it("a copy has its own successors map", async () => {
    class Rewire extends Node {
      override post() {
        this.successors.clear();
      }
    }
    const r = new Rewire();
    r.next(new Step("b"));
    await new Graph(r).run({ log: [] });
    expect(r.successors.size).toBe(1);
  });

  it("concurrent runs of one graph instance do not interfere", async () => {
    class Slow extends Node<{ id: number; trail: number[] }> {
      override async exec() {
        await new Promise((r) => setTimeout(r, 5));
      }
      override post(shared: { id: number; trail: number[] }) {
        shared.trail.push(shared.id);
        return shared.trail.length < 3 ? "again" : "done";
      }
    }
    const slow = new Slow();
    slow.on("again", slow).on("done", END);
    const g = new Graph(slow);
    const stores = Array.from({ length: 10 }, (_, id) => ({ id, trail: [] as number[] }));
    const actions = await Promise.all(stores.map((s) => g.run(s)));
    expect(actions).toEqual(Array(10).fill("done"));
    for (const s of stores) expect(s.trail).toEqual([s.id, s.id, s.id]);
  });
});

describe("params", () => {
  it("params is a read-only copy and setParams copies", () => {
    const n = new Step("a");
    const p = { id: 1 };
    n.setParams(p);
    p.id = 2;
    expect(n.params).toEqual({ id: 1 });
    expect(Object.isFrozen(n.params)).toBe(true);
    expect(() => n.setParams(null as never)).toThrow(TypeError);
  });

  it("a graph's params replace its children's, nested graphs included", async () => {
    const seen: unknown[] = [];
    class Peek extends Node {
      override prep() {
        seen.push({ ...this.params });
      }
    }
    const inner = new Peek();
    inner.setParams({ own: true });
    const innerGraph = new Graph(inner);
    innerGraph.setParams({ innerGraph: true });
    const first = new Peek();
    first.next(innerGraph);
    const outer = new Graph(first);
    outer.setParams({ outer: 1 });
    await outer.run({});
    expect(seen).toEqual([{ outer: 1 }, { outer: 1 }]);
  });
});

describe("graphs as nodes", () => {
  it("nests a graph, whose last action picks the parent's edge", async () => {
    const inner = new Graph();
    inner.start(new Step("i1")).next(new Step("i2", "inner-done"));
    const before = new Step("before");
    before.next(inner).on("inner-done", new Step("after"));
    const shared: Store = { log: [] };
    await expect(new Graph(before).run(shared)).resolves.toBeUndefined();
    expect(shared.log).toEqual(["before", "i1", "i2", "after"]);
  });

  it("chains graph to graph", async () => {
    const g1 = new Graph(new Step("a"));
    const g2 = new Graph(new Step("b", "end"));
    g1.next(g2);
    const shared: Store = { log: [] };
    await expect(new Graph(g1).run(shared)).resolves.toBe("end");
    expect(shared.log).toEqual(["a", "b"]);
  });

  it("a graph's overridden post decides its action", async () => {
    class Wrapped extends Graph<Store> {
      override post() {
        return "wrapped";
      }
    }
    const w = new Wrapped(new Step("x", "inner"));
    w.on("wrapped", new Step("after"));
    const shared: Store = { log: [] };
    await new Graph(w).run(shared);
    expect(shared.log).toEqual(["x", "after"]);
  });
});
