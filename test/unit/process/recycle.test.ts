import { describe, expect, it } from "vitest";
import { recycleReason, requestBudget } from "../../../src/process/recycle.js";

describe("requestBudget", () => {
  it("adds 0…jitter requests (inclusive) to maxRequests", () => {
    expect(requestBudget(200, 20, () => 0)).toBe(200);
    expect(requestBudget(200, 20, () => 0.999_999)).toBe(220);
    expect(requestBudget(200, 20, () => 0.5)).toBe(210);
  });

  it("spreads budgets over the whole jitter range", () => {
    const budgets = new Set(Array.from({ length: 500 }, () => requestBudget(100, 4)));
    expect([...budgets].sort()).toEqual([100, 101, 102, 103, 104]);
  });

  it("is 0 (no limit) when maxRequests is 0, whatever the jitter; no jitter means exactly maxRequests", () => {
    expect(requestBudget(0, 50, () => 0.9)).toBe(0);
    expect(requestBudget(300, 0, () => 0.9)).toBe(300);
  });
});

describe("recycleReason", () => {
  it("names the request budget once reached, memory once exceeded, requests first", () => {
    expect(recycleReason({ requests: 199, rssMb: 90 }, { maxRequests: 200, maxMemoryMb: 100 })).toBeUndefined();
    expect(recycleReason({ requests: 200, rssMb: 90 }, { maxRequests: 200, maxMemoryMb: 100 })).toBe("max_requests");
    expect(recycleReason({ requests: 10, rssMb: 100.5 }, { maxRequests: 200, maxMemoryMb: 100 })).toBe("max_memory");
    expect(recycleReason({ requests: 500, rssMb: 500 }, { maxRequests: 200, maxMemoryMb: 100 })).toBe("max_requests");
  });

  it("never recycles with both limits off", () => {
    expect(recycleReason({ requests: 1e9, rssMb: 1e6 }, { maxRequests: 0, maxMemoryMb: 0 })).toBeUndefined();
  });
});
