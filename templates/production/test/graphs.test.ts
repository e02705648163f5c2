import { describe, expect, it } from "vitest";
// Typed in-process handlers, written by `kaygraph generate` (npm test runs it first).
import { handlers } from "../.kaygraph/generated/routes.js";

describe("process", () => {
  it("v1 keeps its old answer", async () => {
    expect(await handlers.process.v1({ text: "ship it" })).toEqual({ result: "SHIP IT", version: "1.0" });
  });

  it("v2 adds priority, the caller and metrics", async () => {
    const user = { sub: "ada", tier: "premium", claims: {} };
    const out = await handlers.process.v2({ text: "ship it today", options: { operation: "title" }, priority: "high" }, { user });
    expect(out).toMatchObject({
      result: "Ship It Today",
      version: "2.0",
      metadata: { words: 3, priority: "high", user: "ada", tier: "premium" },
      advanced_metrics: { characters: 13 },
    });
  });

  it("latest is v2", () => {
    expect(handlers.process.latest).toBe(handlers.process.v2);
  });

  it("v2 without a caller (a local run) reports none", async () => {
    const out = await handlers.process.v2({ text: "x" });
    expect(out.metadata).toMatchObject({ user: null, tier: null, priority: "normal" });
  });
});

describe("summarize", () => {
  it("keeps the first sentences", async () => {
    expect(await handlers.summarize.v1({ text: "One. Two! Three?", sentences: 2 })).toEqual({ summary: "One. Two!", sentences: 2 });
  });
});
