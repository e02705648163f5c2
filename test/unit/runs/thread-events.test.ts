import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadGraphFiles } from "../../../src/definition/load.js";
import type { RunEvent } from "../../../src/graph/events.js";
import type { Checkpoint } from "../../../src/graph/interrupt.js";
import { ThreadExecutor } from "../../../src/runs/threads/thread-executor.js";

const GRAPH = fileURLToPath(new URL("./fixtures/shout-graph.ts", import.meta.url));
const ROOT = path.dirname(GRAPH);

describe("events of a run in a thread", () => {
  it("only the event types the caller wants cross; all of them when it names none", { timeout: 60_000 }, async () => {
    const executor = new ThreadExecutor({ count: 1, maxHeapMb: 256, killGraceMs: 500, load: { files: [GRAPH], root: ROOT } });
    onTestFinished(() => executor.close());
    await executor.start();
    const graph = (await loadGraphFiles([GRAPH], ROOT)).find("shout", 1);
    if (graph === undefined) throw new Error("the fixture graph did not load");
    const run = async (eventTypes?: ReadonlySet<string>) => {
      const events: RunEvent[] = [];
      const output = await executor.execute(graph, { input: { text: "hi" }, requestId: "r", runId: "r" }, { onEvent: (e) => events.push(e), ...(eventTypes && { eventTypes }) });
      return { output, types: events.map((e) => e.type) };
    };
    const all = await run();
    expect(all.types[0]).toBe("start");
    expect(all.types).toContain("node_end");
    expect(all.types.at(-1)).toBe("result");
    const some = await run(new Set(["node_end"]));
    expect(some.output).toEqual(all.output);
    expect(some.types).toEqual(all.types.filter((t) => t === "node_end"));
  });
});

describe("checkpoints of a run in a thread", () => {
  it("the run waits for each checkpoint, but not for a start checkpoint its caller holds", { timeout: 60_000 }, async () => {
    const executor = new ThreadExecutor({ count: 1, maxHeapMb: 256, killGraceMs: 500, load: { files: [GRAPH], root: ROOT } });
    onTestFinished(() => executor.close());
    await executor.start();
    const graph = (await loadGraphFiles([GRAPH], ROOT)).find("shout", 1);
    if (graph === undefined) throw new Error("the fixture graph did not load");
    const request = { input: { text: "hi" }, requestId: "r", runId: "r" };
    // Not held: the run goes on only once the checkpoint is stored.
    const order: string[] = [];
    const stored = executor.execute(graph, request, {
      onCheckpoint: async (checkpoint: Checkpoint) => {
        order.push(`checkpoint ${checkpoint.step}`);
        await new Promise((resolve) => setImmediate(resolve));
        order.push("stored");
      },
    });
    order.push(`output ${JSON.stringify(await stored)}`);
    expect(order).toEqual(["checkpoint 0", "stored", 'output {"text":"HI"}']);
    // Held: it still reaches the caller, and the run does not wait for its answer (here: never).
    const held: Checkpoint[] = [];
    const output = await executor.execute(graph, request, { onCheckpoint: (checkpoint: Checkpoint) => new Promise(() => held.push(checkpoint)), startCheckpointHeld: true });
    expect(output).toEqual({ text: "HI" });
    expect(held.map((c) => [c.step, c.next_node])).toEqual([[0, expect.any(String)]]);
  });
});
