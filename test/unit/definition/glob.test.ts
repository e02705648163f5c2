import { describe, expect, it } from "vitest";
import { globBase, globToRegExp, isGlob } from "../../../src/definition/glob.js";

describe("glob", () => {
  it("matches *, **, ? and {a,b}", () => {
    const re = globToRegExp("src/**/*.graph.{ts,js}");
    expect(re.test("src/a.graph.ts")).toBe(true);
    expect(re.test("src/x/y/a.graph.js")).toBe(true);
    expect(re.test("src/a.graph.mjs")).toBe(false);
    expect(re.test("lib/a.graph.ts")).toBe(false);
    expect(globToRegExp("graphs/*.ts").test("graphs/sub/a.ts")).toBe(false);
    expect(globToRegExp("g?.ts").test("g1.ts")).toBe(true);
    expect(globToRegExp("a.b/*.ts").test("aXb/x.ts")).toBe(false);
  });

  it("finds the walk base and tells globs from paths", () => {
    expect(globBase("src/graphs/**/*.ts")).toBe("src/graphs");
    expect(isGlob("graphs")).toBe(false);
    expect(isGlob("graphs/*.ts")).toBe(true);
  });
});
