import { describe, expect, it } from "vitest";
import * as index from "../../../src/index.js";
import * as threadIndex from "../../../src/thread-index.js";
import { initialize, resolve } from "../../../src/runs/threads/resolve-hook.js";

describe("the package entry of a run thread", () => {
  it("exports exactly the names of the package entry, the same values except the server functions", () => {
    expect(Object.keys(threadIndex).sort()).toEqual(Object.keys(index).sort());
    const lazy = new Set(["startServer", "createGuard", "createApp"]);
    for (const [name, value] of Object.entries(index)) {
      if (!lazy.has(name)) expect(threadIndex[name as keyof typeof threadIndex], name).toBe(value);
    }
  });

  it("says where createApp is not available, and loads startServer on first call", async () => {
    expect(() => (threadIndex.createApp as () => unknown)()).toThrow(/not available to graph code in a run thread/);
    // Loaded on demand: the real function runs (and rejects the missing config as it would from index).
    await expect((threadIndex.startServer as (...a: unknown[]) => Promise<unknown>)(undefined, undefined)).rejects.toThrow();
  });

  it("the resolve hook swaps only the package's own entry", async () => {
    initialize({ index: "file:///pkg/dist/index.js", threadIndex: "file:///pkg/dist/thread-index.js" });
    const next = async (specifier: string) => ({ url: specifier === "kaygraph" ? "file:///pkg/dist/index.js" : `file:///elsewhere/${specifier}.js`, format: "module" });
    expect(await resolve("kaygraph", {}, next)).toEqual({ url: "file:///pkg/dist/thread-index.js", format: "module" });
    expect(await resolve("zod", {}, next)).toEqual({ url: "file:///elsewhere/zod.js", format: "module" });
  });
});
