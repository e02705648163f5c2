import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/schema.js";
import { closest, knownKeys } from "../../../src/config/suggest.js";

describe("setting suggestions", () => {
  it("lists the keys the schema accepts at a path, through defaults", () => {
    expect(knownKeys(configSchema, [])).toEqual(expect.arrayContaining(["graphs", "server", "workers", "rateLimit", "log"]));
    expect(knownKeys(configSchema, ["server"])).toEqual(expect.arrayContaining(["host", "port", "bodyLimit"]));
    expect(knownKeys(configSchema, ["server", "port"])).toEqual([]);
    expect(knownKeys(configSchema, ["nope"])).toEqual([]);
  });

  it("suggests only plausible typos", () => {
    expect(closest("sever", ["server", "workers"])).toBe("server");
    expect(closest("prot", ["host", "port"])).toBe("port");
    expect(closest("RATELIMIT", ["rateLimit", "redis"])).toBe("rateLimit");
    expect(closest("bogus", ["host", "port", "docs"])).toBeUndefined();
    expect(closest("x", ["ws", "log"])).toBeUndefined();
  });
});
