import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("../../../src/init/init.js", () => ({ runInit: vi.fn(async () => ({})) }));

const { runInit } = await import("../../../src/init/init.js");
const { createProgram } = await import("../../../src/cli/program.js");
const { packageInfo } = await import("../../../src/package-info.js");

/** Parses `kaygraph <args>` and returns what the init command passed to runInit. */
async function parse(args: string[], tty = false) {
  Object.defineProperty(process.stdin, "isTTY", { value: tty, configurable: true });
  await createProgram().parseAsync(["node", "kaygraph", ...args]);
  const call = vi.mocked(runInit).mock.calls.at(-1);
  if (!call) throw new Error("runInit was not called");
  return { options: call[0], interactive: call[1].interactive };
}

describe("kaygraph init flags", () => {
  const ttyBefore = process.stdin.isTTY;
  beforeEach(() => vi.mocked(runInit).mockClear());
  afterEach(() => {
    Object.defineProperty(process.stdin, "isTTY", { value: ttyBefore, configurable: true });
    vi.unstubAllEnvs();
  });

  it("leaves everything open without flags: prompts decide on a terminal, defaults elsewhere", async () => {
    vi.stubEnv("KAYGRAPH_INIT_DEP", undefined);
    const { options, interactive } = await parse(["init"], true);
    expect(options).toEqual({
      cwd: process.cwd(),
      dir: undefined,
      template: undefined,
      install: undefined,
      git: undefined,
      force: undefined,
      kaygraphVersion: undefined,
      version: packageInfo().version,
    });
    expect(interactive).toBe(true);
  });

  it("maps every flag", async () => {
    const { options } = await parse(["init", "my-app", "-t", "streaming", "--no-install", "--no-git", "--force", "--kaygraph-version", "../kaygraph"]);
    expect(options).toMatchObject({ dir: "my-app", template: "streaming", install: false, git: false, force: true, kaygraphVersion: "../kaygraph" });
  });

  it("is not interactive with --yes, or without a terminal", async () => {
    expect((await parse(["init", "--yes"], true)).interactive).toBe(false);
    expect((await parse(["init"], false)).interactive).toBe(false);
  });

  it("resolves the directory against the global --cwd", async () => {
    const { options } = await parse(["--cwd", "/tmp/somewhere", "init", "app"]);
    expect(options).toMatchObject({ cwd: path.resolve("/tmp/somewhere"), dir: "app" });
  });

  it("reads the local build from KAYGRAPH_INIT_DEP; the flag wins over it", async () => {
    vi.stubEnv("KAYGRAPH_INIT_DEP", "/src/kaygraph/kaygraph-0.1.0.tgz");
    expect((await parse(["init", "a"])).options.kaygraphVersion).toBe("/src/kaygraph/kaygraph-0.1.0.tgz");
    expect((await parse(["init", "a", "--kaygraph-version", "0.2.0"])).options.kaygraphVersion).toBe("0.2.0");
  });
});
