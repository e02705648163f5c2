import { describe, expect, it } from "vitest";
import { z } from "zod";
import { resolveRetry } from "../../../src/definition/define.js";
import { Graph, defineGraph, type RetryOptions } from "../../../src/index.js";

const define = (retry: RetryOptions) => defineGraph({ input: z.object({}), output: z.object({}), graph: new Graph(), retry });

describe("defineGraph retry", () => {
  it("accepts `backoff` (the documented name) and `backoffMs` (its alias)", () => {
    expect(define({ attempts: 3, backoff: 250 }).retry).toEqual({ attempts: 3, backoff: 250 });
    expect(define({ attempts: 2, backoffMs: 40 }).retry).toEqual({ attempts: 2, backoffMs: 40 });
    expect(define({ attempts: 1 }).retry).toEqual({ attempts: 1 });
  });

  it("refuses both at once, and bad values, with a clear message", () => {
    expect(() => define({ attempts: 3, backoff: 100, backoffMs: 100 })).toThrow(/retry: give `backoff` or its alias `backoffMs`, not both/);
    expect(() => define({ attempts: 3, backoff: -1 })).toThrow(/retry\.backoff/);
    expect(() => define({ attempts: 0 })).toThrow(/retry\.attempts/);
    expect(() => define({ attempts: 3, delay: 5 } as RetryOptions)).toThrow(/unknown option\(s\): delay/);
  });

  it("resolves to the task's tries and backoff base, with the defaults", () => {
    expect(resolveRetry({ attempts: 3, backoff: 250 })).toEqual({ maxAttempts: 3, backoffMs: 250 });
    expect(resolveRetry({ attempts: 2, backoffMs: 40 })).toEqual({ maxAttempts: 2, backoffMs: 40 });
    expect(resolveRetry({ attempts: 4, backoff: 0 })).toEqual({ maxAttempts: 4, backoffMs: 0 });
    expect(resolveRetry({ attempts: 2 })).toEqual({ maxAttempts: 2, backoffMs: 1000 });
    expect(resolveRetry(undefined)).toEqual({ maxAttempts: 1, backoffMs: 1000 });
  });
});
