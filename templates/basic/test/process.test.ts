import type { RunEvent } from "kaygraph";
import { describe, expect, it } from "vitest";
// Typed in-process handlers, written by `kaygraph generate` (npm test runs it first).
import { handlers } from "../.kaygraph/generated/routes.js";

const processText = handlers.process.v1;

describe("process", () => {
  it("uppercases by default, through the transform branch", async () => {
    const out = await processText({ text: "  graphs   that serve themselves " });
    expect(out).toEqual({
      result: "GRAPHS THAT SERVE THEMSELVES",
      metadata: { operation: "uppercase", branch: "transform", words: 4, characters: 28, attempts: 1, degraded: false },
    });
  });

  it.each([
    ["lowercase", "graphs that serve"],
    ["title", "Graphs That Serve"],
    ["reverse", "serve That GRAPHS"],
  ] as const)("applies %s", async (operation, expected) => {
    const out = await processText({ text: "GRAPHS That serve", options: { operation } });
    expect(out.result).toBe(expected);
  });

  it("summarizes through the summarize branch", async () => {
    const out = await processText({ text: "Nodes prep, exec and post. Graphs connect them.", options: { operation: "summarize", maxWords: 3 } });
    expect(out.result).toBe("Nodes prep, exec…");
    expect(out.metadata).toMatchObject({ branch: "summarize", attempts: 1, degraded: false });
  });

  it("retries the summarizer until it answers", async () => {
    const out = await processText({ text: "One sentence only.", options: { operation: "summarize", failures: 2 } });
    expect(out.result).toBe("One sentence only.");
    expect(out.metadata).toMatchObject({ attempts: 3, degraded: false });
  });

  it("falls back to a plain cut when every attempt fails", async () => {
    const out = await processText({ text: "a b c d e", options: { operation: "summarize", maxWords: 2, failures: 5 } });
    expect(out.result).toBe("a b");
    expect(out.metadata).toMatchObject({ attempts: 3, degraded: true });
  });

  it("rejects invalid input before running", async () => {
    await expect(processText({ text: "   " })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });

  it("reports each node as it runs", async () => {
    const events: RunEvent[] = [];
    await processText({ text: "x", options: { operation: "summarize" } }, { onEvent: (event) => events.push(event) });
    const nodes = events.flatMap((e) => (e.type === "node_start" ? [e.node] : []));
    expect(nodes).toEqual(["Tokenize", "Summarize", "Respond"]);
    expect(events.at(-1)).toMatchObject({ type: "result", result: { result: "x" } });
  });
});
