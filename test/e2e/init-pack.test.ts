/**
 * `kaygraph init` from the package as npm publishes it: `npm pack` this repo once, scaffold a project whose
 * kaygraph dependency is the tarball, install it (kaygraph's own dependencies too: better-sqlite3 compiles
 * here, which is why this file is slow), and check the installed CLI scaffolds from its own templates.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { runCli } from "../helpers/cli.js";

const REPO = path.resolve(import.meta.dirname, "../..");

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("VITEST") || key.startsWith("KAYGRAPH_") || key === "NODE_ENV" || key === "TEST" || key.startsWith("npm_")) continue;
    env[key] = value;
  }
  return { ...env, CI: "1", NO_COLOR: "1", npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_user_agent: "npm/e2e", ...extra };
}

async function run(cwd: string, command: string, args: string[]) {
  const result = await execa(command, args, { cwd, env: cleanEnv(), extendEnv: false, reject: false, timeout: 240_000, all: true, stdin: "ignore" });
  return { exitCode: result.exitCode, output: String(result.all ?? "") };
}

const readJson = async (file: string) => JSON.parse(await readFile(file, "utf8")) as { dependencies: Record<string, string> };

/** Starts the project's installed `kaygraph serve` on a free port; resolves with its URL, stopped after the test. */
async function serveInstalled(cwd: string): Promise<string> {
  const child = execa(process.execPath, ["node_modules/kaygraph/bin/kaygraph.js", "serve", "--port", "0", "--host", "127.0.0.1"], {
    cwd,
    env: cleanEnv({ KAYGRAPH_TEST: "1" }),
    extendEnv: false,
    reject: false,
    all: true,
    stdin: "ignore",
    forceKillAfterDelay: 5_000,
  });
  onTestFinished(async () => {
    child.kill("SIGTERM");
    await child;
  });
  let output = "";
  return new Promise((resolve, reject) => {
    child.all?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const port = /kaygraph: ready port=(\d+)/.exec(output)?.[1];
      if (port) resolve(`http://127.0.0.1:${port}`);
    });
    void child.then(() => reject(new Error(`kaygraph serve exited before it was ready:\n${output}`)));
  });
}

let root: string;
let project: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kaygraph-init-pack-"));
  const pack = await run(REPO, "npm", ["pack", "--ignore-scripts", "--pack-destination", root, "--silent"]);
  expect(pack.exitCode, pack.output).toBe(0);
  const tarball = path.join(root, pack.output.trim().split("\n").at(-1)!);
  const init = await runCli(["init", "app", "--template", "basic", "--kaygraph-version", tarball, "--no-git"], { cwd: root, env: cleanEnv(), timeout: 240_000 });
  expect(init.exitCode, `${init.stdout}\n${init.stderr}`).toBe(0);
  project = path.join(root, "app");
}, 300_000);

afterAll(async () => {
  if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(root, { recursive: true, force: true });
});

describe("a project on the packed package", () => {
  it("installs kaygraph from the tarball, with every dependency install script reviewed", async () => {
    expect((await readJson(path.join(project, "package.json"))).dependencies.kaygraph).toMatch(/^file:.*kaygraph-.*\.tgz$/);
    expect(existsSync(path.join(project, "node_modules/kaygraph/dist/cli/main.js"))).toBe(true);
    // allowScripts let npm build better-sqlite3 (the embedded task store) and nothing asks for review.
    expect(existsSync(path.join(project, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"))).toBe(true);
    const scripts = await run(project, "npm", ["install-scripts", "ls"]);
    expect(scripts.output).toContain("No packages with unreviewed install scripts");
  });

  it("ships the templates, and the installed CLI scaffolds from them", async () => {
    expect((await readdir(path.join(project, "node_modules/kaygraph/templates"))).sort()).toEqual(["background", "basic", "human-in-the-loop", "production", "streaming"]);
    const bin = path.join(project, "node_modules/.bin/kaygraph");
    const second = await run(root, bin, ["init", "second", "--template", "production", "--no-install", "--no-git"]);
    expect(second.exitCode, second.output).toBe(0);
    // Installed, not a clone: no hint about --kaygraph-version, and the dependency is the package's version.
    expect(second.output).not.toContain("not from an installed package");
    expect((await readJson(path.join(root, "second/package.json"))).dependencies.kaygraph).toMatch(/^\^\d+\.\d+\.\d+/);
    expect(existsSync(path.join(root, "second/.gitignore"))).toBe(true);
    expect(existsSync(path.join(root, "second/.dockerignore"))).toBe(true);
  });

  it("passes its own npm test", async () => {
    const { exitCode, output } = await run(project, "npm", ["test"]);
    expect(exitCode, output).toBe(0);
  });

  it("serves from the installed package, its task store on the compiled better-sqlite3", async () => {
    const base = await serveInstalled(project);
    const res = await fetch(`${base}/api/v1/process/async`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: "packed" }) });
    expect(res.status).toBe(202);
    const { check_url } = (await res.json()) as { check_url: string };
    await expect
      .poll(async () => ((await (await fetch(`${base}${check_url}`)).json()) as { status: string; result: unknown }), { timeout: 20_000 })
      .toMatchObject({ status: "completed", result: { result: "PACKED" } });
  });
});
