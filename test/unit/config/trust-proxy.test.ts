import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/load.js";
import { SETTINGS } from "../../../src/config/settings.js";

const row = SETTINGS.find((s) => s.path === "server.trustProxy")!;

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("KAYGRAPH_TRUST_PROXY", () => {
  it("reads numbers as hop counts, true/false as booleans, anything else as an address list", () => {
    expect(row.env).toEqual(["KAYGRAPH_TRUST_PROXY"]);
    const cases: Array<[string, unknown]> = [
      ["1", 1],
      ["0", 0],
      [" 2 ", 2],
      ["true", true],
      ["TRUE", true],
      ["false", false],
      ["loopback", "loopback"],
      ["10.0.0.0/8, 192.168.1.1", "10.0.0.0/8, 192.168.1.1"],
      ["yes", "yes"],
    ];
    for (const [raw, value] of cases) expect(row.parse(raw), raw).toEqual(value);
  });

  it("reaches the resolved config as a hop count, not as trust-everyone", async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), "kaygraph-trust-"));
    dirs.push(cwd);
    expect((await loadConfig({ cwd, env: { KAYGRAPH_TRUST_PROXY: "1" } })).config.server.trustProxy).toBe(1);
    expect((await loadConfig({ cwd, env: { KAYGRAPH_TRUST_PROXY: "true" } })).config.server.trustProxy).toBe(true);
    expect((await loadConfig({ cwd, env: { KAYGRAPH_TRUST_PROXY: "loopback, 10.0.0.0/8" } })).config.server.trustProxy).toBe("loopback, 10.0.0.0/8");
    expect((await loadConfig({ cwd, env: {} })).config.server.trustProxy).toBe(false);
  });

  it("refuses a value that is no boolean, hop count or address list, naming the setting and its source", async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), "kaygraph-trust-"));
    dirs.push(cwd);
    const error = await loadConfig({ cwd, env: { KAYGRAPH_TRUST_PROXY: "yes" } }).then(() => undefined, (e: Error) => e);
    expect(error?.message).toMatch(/^server\.trustProxy: must be true, false, a hop count, or comma-separated addresses\/subnets.*got "yes" \(from env KAYGRAPH_TRUST_PROXY\)/m);
  });
});
