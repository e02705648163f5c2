import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Graph, MetricsNode, Node, ValidatedNode } from "../../../src/index.js";

describe("ValidatedNode", () => {
  it("validates input and output with overridable validators", async () => {
    class Double extends ValidatedNode<{ n: unknown; out?: number }, number, number> {
      override prep(shared: { n: unknown }) {
        return shared.n as number;
      }
      override validateInput(n: number) {
        if (typeof n !== "number") throw new TypeError("n must be a number");
        return n;
      }
      override exec(n: number) {
        return n * 2;
      }
      override validateOutput(r: number) {
        return r + 0.5;
      }
      override post(shared: { out?: number }, _p: number, r: number) {
        shared.out = r;
      }
    }
    const shared: { n: unknown; out?: number } = { n: 4 };
    await new Double().run(shared);
    expect(shared.out).toBe(8.5);
    await expect(new Double().run({ n: "x" })).rejects.toThrow("n must be a number");
  });

  it("accepts zod schemas; validation failures are not retried and skip the fallback but reach onError", async () => {
    let execs = 0;
    let fallback = false;
    let onErrorSaw: unknown;
    class Typed extends ValidatedNode {
      constructor() {
        super({ maxRetries: 3, input: z.object({ text: z.string() }), output: z.number() });
      }
      override prep(shared: { input: unknown }) {
        return shared.input;
      }
      override exec(p: { text: string }) {
        execs++;
        return p.text === "bad-output" ? ("nope" as unknown as number) : p.text.length;
      }
      override execFallback() {
        fallback = true;
        return 0;
      }
      override onError(_s: unknown, e: unknown) {
        onErrorSaw = e;
      }
    }
    await expect(new Typed().run({ input: { text: "abc" } })).resolves.toBeUndefined();
    await expect(new Typed().run({ input: { text: 1 } })).rejects.toBeInstanceOf(z.ZodError);
    expect(execs).toBe(1);
    await expect(new Typed().run({ input: { text: "bad-output" } })).rejects.toBeInstanceOf(z.ZodError);
    expect(execs).toBe(2);
    expect(fallback).toBe(false);
    expect(onErrorSaw).toBeInstanceOf(z.ZodError);
  });
});

describe("MetricsNode", () => {
  it("counts executions, outcomes, retries and durations across graph steps", async () => {
    class Measured extends MetricsNode<{ fail: boolean }> {
      calls = { n: 0 };
      override exec() {
        this.calls.n++;
        if (this.calls.n === 1) throw new Error("first attempt fails");
      }
      override prep(shared: { fail: boolean }) {
        if (shared.fail) throw new Error("prep failed");
      }
    }
    const m = new Measured({ maxRetries: 2 });
    expect(m.getStats()).toMatchObject({ totalExecutions: 0, successRate: 0 });
    await new Graph(m).run({ fail: false });
    await new Graph(m).run({ fail: false });
    await expect(new Graph(m).run({ fail: true })).rejects.toThrow("prep failed");
    const stats = m.getStats();
    expect(stats).toMatchObject({ totalExecutions: 3, successCount: 2, errorCount: 1, totalRetries: 1 });
    expect(stats.successRate).toBeCloseTo(2 / 3);
    expect(stats.minDurationMs).toBeLessThanOrEqual(stats.avgDurationMs);
    expect(stats.maxDurationMs).toBeGreaterThanOrEqual(stats.avgDurationMs);
    m.resetStats();
    expect(m.getStats().totalExecutions).toBe(0);
  });

  it("a suppressed error counts as a success", async () => {
    class Suppressed extends MetricsNode {
      override exec() {
        throw new Error("x");
      }
      override onError() {
        return true;
      }
    }
    const s = new Suppressed();
    await s.run({});
    expect(s.getStats()).toMatchObject({ successCount: 1, errorCount: 0 });
    expect(new Node()).not.toHaveProperty("getStats");
  });
});
