import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("kaygraph CLI basics", () => {
  it("--help lists usage and exits 0", async () => {
    const r = await runCli(["--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("Usage: kaygraph");
    expect(r.stdout).toContain("--version");
  });

  it("--version prints the package version", async () => {
    const { version } = (await import("../../package.json", { with: { type: "json" } })).default;
    const r = await runCli(["--version"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("an unknown flag exits 2 with a helpful message and no stack", async () => {
    const r = await runCli(["--bogus"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
    expect(r.stderr).toContain("kaygraph --help");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
