import { describe, expect, it } from "vitest";
import { CrashTracker, DEFAULT_RESTART_POLICY } from "../../../src/process/backoff.js";

const policy = { initialDelayMs: 100, maxDelayMs: 1_000, resetAfterMs: 30_000, maxBootFailures: 3 };

describe("CrashTracker", () => {
  it("doubles the restart delay per consecutive crash, capped at the maximum, and never gives up on crashes", () => {
    const tracker = new CrashTracker(policy);
    const delays = Array.from({ length: 50 }, () => tracker.recordDeath(10));
    expect(delays.slice(0, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(delays.every((d) => typeof d === "number" && d <= 1_000)).toBe(true);
  });

  it("starts again from the first delay after a worker stayed up long enough", () => {
    const tracker = new CrashTracker(policy);
    expect([tracker.recordDeath(10), tracker.recordDeath(10), tracker.recordDeath(10)]).toEqual([100, 200, 400]);
    expect(tracker.recordDeath(30_000)).toBe(100);
    expect(tracker.recordDeath(10)).toBe(200);
  });

  it("replaces at once (first delay) when no other worker serves, still counting the deaths in a row", () => {
    const tracker = new CrashTracker(policy);
    expect([tracker.recordDeath(10), tracker.recordDeath(10)]).toEqual([100, 200]);
    expect(tracker.recordDeath(10, false)).toBe(100);
    expect(tracker.recordDeath(10, true)).toBe(800);
  });

  it("gives up after maxBootFailures replacements in a row fail to boot while no worker serves", () => {
    const tracker = new CrashTracker(policy);
    expect(tracker.recordBootFailure(false)).toBe(100);
    expect(tracker.recordBootFailure(false)).toBe(200);
    expect(tracker.recordBootFailure(false)).toBeUndefined();
    expect(tracker.bootFailuresInARow).toBe(3);
  });

  it("keeps retrying boot failures (with backoff) while another worker serves", () => {
    const tracker = new CrashTracker(policy);
    const delays = Array.from({ length: 10 }, () => tracker.recordBootFailure(true));
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000, 1_000]);
  });

  it("forgets boot failures once a worker becomes ready", () => {
    const tracker = new CrashTracker(policy);
    tracker.recordBootFailure(false);
    tracker.recordBootFailure(false);
    tracker.recordReady();
    expect(tracker.bootFailuresInARow).toBe(0);
    expect(tracker.recordBootFailure(false)).toBeTypeOf("number");
  });

  it("defaults to 100 ms doubling to 15 s, reset after 30 s up, 5 boot failures in a row", () => {
    expect(DEFAULT_RESTART_POLICY).toEqual({ initialDelayMs: 100, maxDelayMs: 15_000, resetAfterMs: 30_000, maxBootFailures: 5 });
  });
});
