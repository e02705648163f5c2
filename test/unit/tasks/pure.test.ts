/** Pure helpers of the task layer: backoff, fingerprints, submit defaults. */
import { describe, expect, it } from "vitest";
import { backoffDelay, fingerprintOf } from "../../../src/tasks/index.js";
import { resolveSubmit } from "../../../src/tasks/submit-input.js";

describe("backoffDelay", () => {
  it("doubles per failed attempt, adds at most 20 % jitter, and caps at an hour", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(100, n, () => 0))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(100, 3, () => 0.999)).toBe(480);
    expect(backoffDelay(1000, 40, () => 0)).toBe(3_600_000);
    expect(backoffDelay(0, 3, () => 0.5)).toBe(0);
  });
});

describe("fingerprintOf", () => {
  it("ignores key order and undefined fields, and tells different requests apart", () => {
    expect(fingerprintOf("g", 1, { a: 1, b: [1, { c: 2, d: 3 }] })).toBe(fingerprintOf("g", 1, { b: [1, { d: 3, c: 2 }], a: 1, e: undefined }));
    expect(fingerprintOf("g", 1, { a: 1 })).not.toBe(fingerprintOf("g", 2, { a: 1 }));
    expect(fingerprintOf("g", 1, { a: 1 })).not.toBe(fingerprintOf("h", 1, { a: 1 }));
    expect(fingerprintOf("g", 1, [1, 2])).not.toBe(fingerprintOf("g", 1, [2, 1]));
  });
});

describe("resolveSubmit", () => {
  it("applies defaults and names a bad field", () => {
    expect(resolveSubmit({ graph: "g", version: 1, input: { x: 1 } })).toMatchObject({ maxAttempts: 1, backoffMs: 1000, timeoutMs: null, owner: null, requestId: null, inputJson: '{"x":1}' });
    expect(() => resolveSubmit({ graph: "g", version: 0, input: null })).toThrow(/version/);
    expect(() => resolveSubmit({ graph: "g", version: 1, input: null, maxAttempts: 0 })).toThrow(/maxAttempts/);
  });
});
