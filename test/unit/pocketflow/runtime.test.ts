import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineGraph } from "../../../src/definition/define.js";
import { runDefinition } from "../../../src/definition/run.js";
import * as kg from "../../../src/graph/index.js";
import * as pf from "../../../src/pocketflow/index.js";
import { captureWarnings, collectEvents } from "../graph/helpers.js";

/** What test/fixtures/pocketflow/nodes.ts exports (see there). */
interface Library {
  files: Record<string, string>;
  words: Record<string, number>;
  shouted: Record<string, string[]>;
  log: string[];
  total?: number;
}
interface Fixtures {
  CountWords: new () => pf.Node<Library, { filename: string }>;
  ShoutWords: new () => pf.ParallelBatchNode<Library, { filename: string; suffix: string }>;
  EachFile: new (start: pf.BaseNode) => pf.BatchFlow<Library>;
  Flaky: new () => pf.Node<Library>;
  libraryFlow(suffix?: string): pf.Flow<Library, { suffix: string }>;
  library(files: Record<string, string>): Library;
}
// The fixtures are written as PocketFlow-TS code is (no `override`), so this project's stricter tsconfig must
// not compile them: they are loaded at run time only, and type-checked with their own tsconfig in types.test.ts.
const FIXTURES = "../../fixtures/pocketflow/nodes.js";
const { CountWords, EachFile, Flaky, ShoutWords, libraryFlow, library } = (await import(FIXTURES)) as Fixtures;

describe("kaygraph/pocketflow runtime", () => {
  it("exports kaygraph's own classes, so instanceof and every engine path see one runtime", () => {
    expect(pf.BaseNode).toBe(kg.Node);
    expect(pf.Node).toBe(kg.Node);
    expect(pf.BatchNode).toBe(kg.BatchNode);
    expect(pf.ParallelBatchNode).toBe(kg.ParallelBatchNode);
    expect(pf.Flow).toBe(kg.Graph);
    expect(pf.BatchFlow).toBe(kg.BatchGraph);
    expect(pf.ParallelBatchFlow).toBe(kg.ParallelBatchGraph);
    expect(new CountWords()).toBeInstanceOf(kg.Node);
    expect(new EachFile(new CountWords())).toBeInstanceOf(kg.BatchGraph);
  });

  it("runs a flow of params-typed batch and parallel batch nodes and flows", async () => {
    const shared = library({ "a.txt": "one two three", "b.txt": "four five" });
    const last = await libraryFlow().run(shared);
    expect(shared.words).toEqual({ "a.txt": 3, "b.txt": 2 });
    expect(shared.shouted).toEqual({ "a.txt": ["ONE!", "TWO!", "THREE!"], "b.txt": ["FOUR!", "FIVE!"] });
    expect(shared.total).toBe(5);
    expect(shared.log).toEqual(["count:a.txt", "count:b.txt", "report:5"]);
    // kaygraph semantics: a flow resolves to its last action (Report returned none).
    expect(last).toBeUndefined();
  });

  it("resolves to the last action and warns when no edge matches it", async () => {
    const warnings = captureWarnings();
    try {
      const last = await libraryFlow().run(library({ "empty.txt": "" }));
      expect(last).toBe("empty");
      expect(warnings.list).toEqual([expect.objectContaining({ code: "KG_GRAPH_ENDS" })]);
    } finally {
      warnings.restore();
    }
  });

  it("retries a positional new Node(3, 0) and hands the last Error to execFallback", async () => {
    const shared = library({});
    await new pf.Flow(new Flaky()).run(shared);
    expect(shared.log).toEqual(["attempt 3 failed of 3"]);
  });

  it("emits kaygraph run events for PocketFlow nodes (nodeId = class name)", async () => {
    const { events, onEvent } = collectEvents();
    await libraryFlow().run(library({ "a.txt": "x" }), { onEvent });
    const started = events.filter((e) => e.type === "node_start").map((e) => (e as { node: string }).node);
    expect(started).toEqual(["EachFile", "CountWords", "ShoutEachFile", "ShoutWords", "SumCounts", "Report"]);
    expect(events.at(-1)?.type).toBe("result");
  });

  it("runs in defineGraph/runDefinition with input and output validated", async () => {
    const definition = defineGraph({
      name: "library",
      input: z.object({ files: z.record(z.string(), z.string()) }),
      output: z.object({ total: z.number(), words: z.record(z.string(), z.number()) }),
      shared: (input): Library => library(input.files),
      result: (shared: Library) => ({ total: shared.total ?? 0, words: shared.words }),
      graph: () => libraryFlow(),
    });
    const loaded = { name: "library", version: 1, definition, file: "/virtual/library.ts", exportName: "default" };
    await expect(runDefinition(loaded, { files: { "a.txt": "a b", "b.txt": "c" } })).resolves.toEqual({ total: 3, words: { "a.txt": 2, "b.txt": 1 } });
  });

  it("has PocketFlow-TS's getNextNode, clone and _successors", () => {
    const warnings = captureWarnings();
    try {
      const count = new CountWords().setParams({ filename: "a.txt" });
      const shout = new ShoutWords();
      count.on("loud", shout).on("quiet", kg.END);
      expect(count._successors).toBe(count.successors);
      expect(count.getNextNode("loud")).toBe(shout);
      expect(count.getNextNode("quiet")).toBeUndefined();
      expect(warnings.list).toEqual([]);
      expect(count.getNextNode("other")).toBeUndefined();
      expect(warnings.list).toEqual([expect.objectContaining({ code: "KG_GRAPH_ENDS", message: expect.stringContaining("'other'") })]);

      const copy = count.clone();
      expect(copy).toBeInstanceOf(CountWords);
      expect(copy._params).toEqual({ filename: "a.txt" });
      copy.on("extra", shout);
      expect([...count.successors.keys()]).toEqual(["loud", "quiet"]);
      expect([...copy.successors.keys()]).toEqual(["loud", "quiet", "extra"]);
    } finally {
      warnings.restore();
    }
  });

  it("interrupts and resumes a params-typed node from its checkpoint, flow params included", async () => {
    type Review = { draft: string; verdict?: string };
    class Approve extends pf.Node<Review, { reviewer: string }> {
      override async post(shared: Review): Promise<string | undefined> {
        const answer = this.interrupt<{ ok: boolean }>({ ask: this._params.reviewer, draft: shared.draft });
        shared.verdict = `${this._params.reviewer}:${answer.ok ? "yes" : "no"}`;
        return undefined;
      }
    }
    const flow = new pf.Flow<Review, { reviewer: string }>(new Approve()).setParams({ reviewer: "ed" });
    const interrupt = await flow.run({ draft: "text" }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(interrupt).toBeInstanceOf(kg.GraphInterrupt);
    const stopped = interrupt as kg.GraphInterrupt;
    expect(stopped.value).toEqual({ ask: "ed", draft: "text" });
    expect(stopped.checkpoint.params).toEqual({ reviewer: "ed" });
    const shared = stopped.checkpoint.shared as Review;
    await new pf.Flow<Review>(new Approve()).run(shared, stopped.resumeWith({ ok: true }));
    expect(shared.verdict).toBe("ed:yes");
  });

  it("keeps params a frozen copy: setParams copies, and the object given stays the caller's", () => {
    const params = { filename: "a.txt" };
    const node = new CountWords().setParams(params);
    params.filename = "changed.txt";
    expect(node._params).toEqual({ filename: "a.txt" });
    expect(Object.isFrozen(node._params)).toBe(true);
  });
});
