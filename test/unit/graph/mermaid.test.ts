import { describe, expect, it } from "vitest";
import { BatchNode, END, Graph, Node, ParallelBatchNode, toMermaid } from "../../../src/index.js";

describe("toMermaid", () => {
  it("draws a branching loop with labelled edges, an end marker and nested graphs as subgraphs", () => {
    const decide = new Node({ nodeId: "decide" });
    const work = new Node({ nodeId: "work" });
    const inner = new Graph(new BatchNode({ nodeId: "each" }), { nodeId: "sub" });
    (inner.startNode as Node).next(new ParallelBatchNode({ nodeId: "fan" }));
    decide.on("again", work).on("done", END).on("nested", inner);
    work.next(decide);
    const text = toMermaid(new Graph(decide));
    expect(text.startsWith("flowchart TD\n")).toBe(true);
    expect(text).toContain('n0["decide"]');
    expect(text).toContain('n1["work"]');
    expect(text).toContain('n0 -- "again" --> n1');
    expect(text).toContain("n1 --> n0");
    expect(text).toContain('n0 -- "done" --> end_marker');
    expect(text).toContain('end_marker(["end"])');
    expect(text).toMatch(/subgraph n2\["sub"\]/);
    expect(text).toMatch(/\[\["each"\]\]/);
    expect(text).toMatch(/\[\/"fan"\/\]/);
    expect(text).toContain('start_marker(["start"]) --> n0');
  });
});
