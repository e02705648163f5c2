import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { loadGraphFiles } from "../../../src/definition/load.js";
import { ThreadExecutor } from "../../../src/runs/threads/thread-executor.js";

const SRC = path.resolve(import.meta.dirname, "../../../src");
const ZOD = path.resolve(import.meta.dirname, "../../../node_modules/zod/index.js");

/** A graph file answering `answer` (it imports kaygraph from the sources, as the unit tests run them). */
const graphSource = (answer: string, waitMs = 0) => `
import { z } from ${JSON.stringify(ZOD)};
import { defineGraph } from ${JSON.stringify(path.join(SRC, "definition/define.ts"))};
import { Graph } from ${JSON.stringify(path.join(SRC, "graph/graph.ts"))};
import { Node } from ${JSON.stringify(path.join(SRC, "graph/node.ts"))};
class Answer extends Node {
  async exec() { await new Promise((r) => setTimeout(r, ${waitMs})); }
  post(shared) { shared.output = { answer: ${JSON.stringify(answer)} }; }
}
export default defineGraph({ name: "answer", input: z.object({}), output: z.object({ answer: z.string() }), graph: () => new Graph(new Answer()) });
`;

describe("run threads reloaded in place", () => {
  it("load a new generation beside the one served: runs under way and runs ordered under the old one keep theirs; a failed load changes nothing; older ones are let go", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-reload-"));
    writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
    const file = path.join(dir, "answer.ts");
    writeFileSync(file, graphSource("one", 400));
    const executor = new ThreadExecutor({ count: 2, maxHeapMb: 256, killGraceMs: 500, load: { files: [file], root: dir } });
    onTestFinished(() => executor.close());
    await executor.start();
    const run = async (generation: number) => {
      const graph = (await loadGraphFiles([file], dir, generation)).find("answer");
      if (graph === undefined) throw new Error("the graph did not load");
      return executor.execute(graph, { input: {}, requestId: "r", runId: "r" }, {});
    };
    // A run of the first generation is under way while the threads load the second.
    const slow = run(0);
    writeFileSync(file, graphSource("two"));
    await executor.reload([file], 1);
    expect(await run(1)).toEqual({ answer: "two" });
    expect(await slow).toEqual({ answer: "one" });
    // Ordered under the generation served until the reload (a request already routed): still its code.
    expect(await run(0)).toEqual({ answer: "one" });

    writeFileSync(file, `${graphSource("three")}\nconst broken = ;\n`);
    await expect(executor.reload([file], 2)).rejects.toThrow(/answer\.ts/);
    expect(await run(1)).toEqual({ answer: "two" });

    writeFileSync(file, graphSource("four"));
    await executor.reload([file], 3);
    expect(await run(3)).toEqual({ answer: "four" });
    expect(await run(1)).toEqual({ answer: "two" });
    // Two reloads back: let go, and said so (never another generation's code).
    await expect(run(0)).rejects.toMatchObject({ code: "ABORTED", message: expect.stringMatching(/no longer has/) });
  });
});
