import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CancelledReason, DefinitionRunError, Graph, GraphRegistry, Node, defineGraph, isDefinition, parseGraphRef, runDefinition, type GraphDefinition, type LoadedGraph, type RunEvent } from "../../../src/index.js";
import { LazyAbort } from "../../../src/graph/lazy-abort.js";

class Fails extends Node {
  static ran = 0;
  override exec() {
    Fails.ran++;
    throw new Error("must not run");
  }
}

const loaded = (definition: GraphDefinition, name = "g", version = 1): LoadedGraph => ({ name, version, definition, file: "/x/g.ts", exportName: "default" });

class Upper extends Node {
  override prep(shared: { input: { text: string } }) {
    return shared.input.text;
  }
  override exec(text: string) {
    this.emit(text.length);
    return text.toUpperCase();
  }
  override post(shared: { output?: unknown }, _p: string, upper: string) {
    shared.output = { upper };
  }
}

const upper = defineGraph({
  input: z.object({ text: z.string(), n: z.number().default(1) }),
  output: z.object({ upper: z.string() }),
  graph: () => new Graph(new Upper()),
});

describe("defineGraph", () => {
  it("returns a frozen, branded definition", () => {
    expect(isDefinition(upper)).toBe(true);
    expect(Object.isFrozen(upper)).toBe(true);
    expect(isDefinition({ input: 1 })).toBe(false);
  });

  it("rejects a bad shape with one line per problem", () => {
    expect(() => defineGraph({ name: "has space", input: {} as never, output: z.string(), graph: 3 as never, bogus: 1 } as never)).toThrow(
      /name: must be URL-safe[\s\S]*input: must be a zod schema[\s\S]*graph: must be a Graph[\s\S]*unknown option\(s\): bogus/,
    );
    expect(() => defineGraph({ input: z.string(), output: z.string(), graph: new Graph(), rateLimit: "lots" })).toThrow(/rateLimit/);
  });
});

describe("GraphRegistry", () => {
  it("finds versions, defaults to the highest, and lists what exists on a miss", () => {
    const registry = new GraphRegistry([loaded(upper, "a", 1), loaded(upper, "a", 3), loaded(upper, "b", 1)]);
    expect(registry.find("a")?.version).toBe(3);
    expect(registry.get("a", 1).version).toBe(1);
    expect(() => registry.get("a", 2)).toThrow(/no version 2; it has 1, 3/);
    expect(() => registry.get("zzz")).toThrow(/No graph named "zzz"/);
    expect(() => registry.add(loaded(upper, "b", 1))).toThrow(/defined twice/);
    // Routes match case-insensitively: a name that differs only in case would share (and shadow) routes.
    expect(() => registry.add(loaded(upper, "B", 2))).toThrow(/"b" .* and "B" .* differ only in case/);
    expect(registry.size).toBe(3);
  });

  it("parses graph refs", () => {
    expect(parseGraphRef("hello")).toEqual({ name: "hello" });
    expect(parseGraphRef("hello@2")).toEqual({ name: "hello", version: 2 });
    expect(parseGraphRef("hello@v3")).toEqual({ name: "hello", version: 3 });
    expect(() => parseGraphRef("hello@x")).toThrow(/graph>@<version>/);
  });
});

describe("runDefinition", () => {
  it("validates input with defaults, runs, and emits the validated output as the one terminal event", async () => {
    const events: RunEvent[] = [];
    const out = await runDefinition(loaded(upper), { text: "abc" }, { onEvent: (e) => events.push(e), requestId: "req-1" });
    expect(out).toEqual({ upper: "ABC" });
    expect(events.map((e) => e.type)).toEqual(["start", "node_start", "data", "node_end", "result"]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events[0]).toMatchObject({ run_id: "req-1" });
    expect(events.at(-1)).toMatchObject({ type: "result", result: { upper: "ABC" } });
  });

  it("rejects invalid input with VALIDATION_ERROR and the zod issues, before running", async () => {
    const events: RunEvent[] = [];
    const error = (await runDefinition(loaded(upper), { text: 5 }, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e)) as DefinitionRunError;
    expect(error).toBeInstanceOf(DefinitionRunError);
    expect(error.code).toBe("VALIDATION_ERROR");
    expect(error.details).toEqual([expect.objectContaining({ path: ["text"] })]);
    expect(events).toEqual([]);
  });

  it("a wrong output shape is a GRAPH_ERROR", async () => {
    const bad = defineGraph({ input: z.object({}), output: z.object({ n: z.number() }), graph: new Graph(new Node()), result: () => ({ n: "x" }) as never });
    const events: RunEvent[] = [];
    const error = (await runDefinition(loaded(bad), {}, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e)) as DefinitionRunError;
    expect(error.code).toBe("GRAPH_ERROR");
    expect(error.message).toMatch(/output does not match/);
    expect(events.at(-1)).toMatchObject({ type: "error", error_code: "GRAPH_ERROR" });
  });

  it("reports the failing node, a timeout, an abort and a cancel", async () => {
    class Fail extends Node {
      override exec() {
        throw new Error("bad thing");
      }
    }
    class Wait extends Node {
      override exec() {
        return new Promise((_, reject) => this.signal.addEventListener("abort", () => reject(new Error("stopped"))));
      }
    }
    const failing = defineGraph({ input: z.object({}), output: z.object({}), graph: () => new Graph(new Fail({ nodeId: "fail-here" })) });
    const waiting = defineGraph({ input: z.object({}), output: z.object({}), graph: () => new Graph(new Wait()) });
    const events: RunEvent[] = [];
    const e1 = (await runDefinition(loaded(failing), {}, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e)) as DefinitionRunError;
    expect(e1).toMatchObject({ code: "GRAPH_ERROR", node: "fail-here", message: "bad thing" });
    expect(events.filter((e) => e.type === "error")).toEqual([expect.objectContaining({ node: "fail-here", error_code: "GRAPH_ERROR" })]);
    await expect(runDefinition(loaded(waiting), {}, { timeoutMs: 20 })).rejects.toMatchObject({ code: "TIMEOUT" });
    const c = new AbortController();
    setTimeout(() => c.abort(new CancelledReason()), 10);
    await expect(runDefinition(loaded(waiting), {}, { signal: c.signal })).rejects.toMatchObject({ code: "CANCELLED" });
    await expect(runDefinition(loaded(waiting), {}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("with a LazyAbort controller (servers pass one per request), the signal is made only when graph code reads it, and still fires", async () => {
    class Wait extends Node {
      override exec() {
        return new Promise((_, reject) => this.signal.addEventListener("abort", () => reject(new Error("stopped"))));
      }
    }
    class Steps extends Node {
      override post(shared: { n: number; output?: unknown }) {
        shared.n += 1;
        shared.output = {};
        return shared.n < 3 ? "again" : undefined;
      }
    }
    const waiting = defineGraph({ input: z.object({}), output: z.object({}), graph: () => new Graph(new Wait()) });
    const looping = defineGraph({
      input: z.object({}),
      output: z.object({}),
      shared: () => ({ n: 0 }),
      graph: () => {
        const step = new Steps();
        step.on("again", step);
        return new Graph(step);
      },
    });
    const made = (abort: LazyAbort) => (abort as unknown as { controller?: AbortController }).controller !== undefined;
    // Never read: no AbortController is made, and the run completes.
    const quiet = new LazyAbort();
    await expect(runDefinition(loaded(looping), {}, { controller: quiet, timeoutMs: 5_000 })).resolves.toEqual({});
    expect(made(quiet)).toBe(false);
    // Read by a node: the timeout, the caller's abort and a cancel reach it.
    const timed = new LazyAbort();
    await expect(runDefinition(loaded(waiting), {}, { controller: timed, timeoutMs: 20 })).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(made(timed)).toBe(true);
    const gone = new LazyAbort();
    setTimeout(() => gone.abort(new Error("The client disconnected")), 10);
    await expect(runDefinition(loaded(waiting), {}, { controller: gone })).rejects.toMatchObject({ code: "ABORTED", message: "The run was aborted: The client disconnected." });
    const cancelled = new LazyAbort();
    setTimeout(() => cancelled.abort(new CancelledReason()), 10);
    await expect(runDefinition(loaded(waiting), {}, { controller: cancelled })).rejects.toMatchObject({ code: "CANCELLED" });
    // Aborted between steps without anyone reading the signal: the next step does not start.
    const between = new LazyAbort();
    class Abort extends Node {
      override post() {
        between.abort(new Error("stop now"));
        return "next";
      }
    }
    const never = new Fails();
    const two = defineGraph({ input: z.object({}), output: z.object({}), graph: () => { const a = new Abort(); a.on("next", never); return new Graph(a); } });
    await expect(runDefinition(loaded(two), {}, { controller: between })).rejects.toMatchObject({ code: "ABORTED" });
    expect(Fails.ran).toBe(0);
  });

  it("uses shared/result mappings, hands the context to nodes, and accepts instances, factories and classes", async () => {
    const seen: unknown[] = [];
    class Peek extends Node {
      override exec() {
        seen.push(this.context.requestId, (this.context.user as { sub?: string } | undefined)?.sub);
      }
    }
    class PeekGraph extends Graph {
      constructor() {
        super(new Peek());
      }
    }
    for (const graph of [new Graph(new Peek()), () => new Graph(new Peek()), PeekGraph as never]) {
      const def = defineGraph({
        input: z.object({ a: z.number() }),
        output: z.object({ doubled: z.number(), who: z.string() }),
        graph,
        shared: (input, ctx) => ({ value: input.a * 2, who: ctx.user?.sub ?? "anon" }),
        result: (shared: { value: number; who: string }) => ({ doubled: shared.value, who: shared.who }),
      });
      const out = await runDefinition(loaded(def), { a: 21 }, { requestId: "r-9", user: { sub: "u-1", tier: "free", claims: {} } });
      expect(out).toEqual({ doubled: 42, who: "u-1" });
    }
    expect(seen).toEqual(["r-9", "u-1", "r-9", "u-1", "r-9", "u-1"]);
  });

  it("a factory that throws still yields start then error events", async () => {
    const def = defineGraph({ input: z.object({}), output: z.object({}), graph: () => { throw new Error("no graph today"); } });
    const events: RunEvent[] = [];
    await expect(runDefinition(loaded(def), {}, { onEvent: (e) => events.push(e) })).rejects.toMatchObject({ code: "GRAPH_ERROR" });
    expect(events.map((e) => [e.type, e.seq])).toEqual([["start", 1], ["error", 2]]);
  });
});
