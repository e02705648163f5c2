import { describe, expect, it } from "vitest";
import { initialize, resolve } from "../../../src/config/generation-hook.js";

/** The next hook in the chain: resolves `specifier` to a fixed URL. */
const to = (url: string) => async () => ({ url, format: "module" });

describe("generation hook (in-place reloads)", () => {
  initialize({ own: ["file:///opt/kaygraph/dist/"] });

  it("passes a parent's generation on to the project modules it imports", async () => {
    const got = await resolve("../lib/text.js", { parentURL: "file:///app/graphs/greet.ts?kg-gen=3" }, to("file:///app/lib/text.ts"));
    expect(got).toEqual({ url: "file:///app/lib/text.ts?kg-gen=3", format: "module" });
  });

  it("leaves dependencies, kaygraph itself, built-ins, other queries and first loads alone", async () => {
    const parent = { parentURL: "file:///app/graphs/greet.ts?kg-gen=3" };
    const cases = ["file:///app/node_modules/zod/index.js", "file:///opt/kaygraph/dist/index.js", "node:fs", "file:///app/lib/old.cts?tsx-commonjs=1"];
    for (const url of cases) expect((await resolve("x", parent, to(url))).url).toBe(url);
    expect((await resolve("../lib/text.js", { parentURL: "file:///app/graphs/greet.ts" }, to("file:///app/lib/text.ts"))).url).toBe("file:///app/lib/text.ts");
    expect((await resolve("./graphs/greet.ts", {}, to("file:///app/graphs/greet.ts"))).url).toBe("file:///app/graphs/greet.ts");
  });
});
