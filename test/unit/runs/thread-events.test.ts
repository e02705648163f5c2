import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadGraphFiles } from "../../../src/definition/load.js";
import type { RunEvent } from "../../../src/graph/events.js";
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
