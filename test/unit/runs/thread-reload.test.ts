import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadGraphFiles } from "../../../src/definition/load.js";
import { ThreadExecutor } from "../../../src/runs/threads/thread-executor.js";

const SRC = path.resolve(import.meta.dirname, "../../../src");
const ZOD = path.resolve(import.meta.dirname, "../../../node_modules/zod/index.js");

/** A graph file answering `answer` (it imports kaygraph from the sources, as the unit tests run them). */
const graphSource = (answer: string) => `
import { z } from ${JSON.stringify(ZOD)};
import { defineGraph } from ${JSON.stringify(path.join(SRC, "definition/define.ts"))};
import { Graph } from ${JSON.stringify(path.join(SRC, "graph/graph.ts"))};
import { Node } from ${JSON.stringify(path.join(SRC, "graph/node.ts"))};
class Answer extends Node { post(shared) { shared.output = { answer: ${JSON.stringify(answer)} }; } }
export default defineGraph({ name: "answer", input: z.object({}), output: z.object({ answer: z.string() }), graph: () => new Graph(new Answer()) });
`;

describe("run threads reloaded in place", () => {
  it("load a new generation beside the old one: each run gets its generation's code; a failed load changes nothing", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-reload-"));
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const file = path.join(dir, "answer.ts");
    writeFileSync(file, graphSource("one"));
    const executor = new ThreadExecutor({ count: 2, maxHeapMb: 256, killGraceMs: 500, load: { files: [file], root: dir } });
    onTestFinished(() => executor.close());
    await executor.start();
    const run = async (generation: number) => {
      const graph = (await loadGraphFiles([file], dir, generation)).find("answer");
      if (graph === undefined) throw new Error("the graph did not load");
      return executor.execute(graph, { input: {}, requestId: "r", runId: "r" }, {});
    };
    expect(await run(0)).toEqual({ answer: "one" });

    writeFileSync(file, graphSource("two"));
    await executor.reload([file], 1);
    expect(await run(1)).toEqual({ answer: "two" });
    // A run ordered under the first generation (in flight during the reload) still gets its code.
    expect(await run(0)).toEqual({ answer: "one" });

    writeFileSync(file, `${graphSource("three")}\nconst broken = ;\n`);
    await expect(executor.reload([file], 2)).rejects.toThrow(/answer\.ts/);
    expect(await run(1)).toEqual({ answer: "two" });
  });
});
