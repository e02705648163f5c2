import { describe, expect, it } from "vitest";
import { CrashTracker, DEFAULT_RESTART_POLICY } from "../../../src/process/backoff.js";

const policy = { initialDelayMs: 100, maxDelayMs: 1_000, resetAfterMs: 30_000, maxDeaths: 5, windowMs: 60_000 };

describe("CrashTracker", () => {
  it("doubles the restart delay per consecutive crash, capped at the maximum", () => {
    const tracker = new CrashTracker({ ...policy, maxDeaths: 100 });
    const delays = Array.from({ length: 6 }, (_, i) => tracker.recordDeath(10, i * 61_000));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it("starts again from the first delay after a worker stayed up long enough", () => {
    const tracker = new CrashTracker({ ...policy, maxDeaths: 100 });
    expect([tracker.recordDeath(10, 0), tracker.recordDeath(10, 1), tracker.recordDeath(10, 2)]).toEqual([100, 200, 400]);
    expect(tracker.recordDeath(30_000, 40_000)).toBe(100);
    expect(tracker.recordDeath(10, 40_001)).toBe(200);
  });

  it("calls K deaths inside the window a crash loop, and forgets deaths older than the window", () => {
    const tracker = new CrashTracker(policy);
    for (let i = 0; i < 4; i++) expect(tracker.recordDeath(10, i * 1_000)).toBeTypeOf("number");
    expect(tracker.recentDeaths).toBe(4);
    expect(tracker.recordDeath(10, 4_000)).toBeUndefined();

    const spread = new CrashTracker(policy);
    // Five deaths, but never more than four within any minute: not a loop.
    for (const at of [0, 20_000, 40_000, 59_000, 61_000]) expect(spread.recordDeath(10, at)).toBeTypeOf("number");
    expect(spread.recentDeaths).toBe(4);
  });

  it("defaults to 100 ms doubling to 15 s, reset after 30 s, 5 deaths a minute", () => {
    expect(DEFAULT_RESTART_POLICY).toEqual({ initialDelayMs: 100, maxDelayMs: 15_000, resetAfterMs: 30_000, maxDeaths: 5, windowMs: 60_000 });
  });
});
