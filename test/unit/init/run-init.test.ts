import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { nextSteps, runInit } from "../../../src/init/init.js";
import { locate, resolvePlan, type InitOptions } from "../../../src/init/plan.js";
import { fakeRunner, recordingPrompter, tempDir } from "./support.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const base = (cwd: string, extra: Partial<InitOptions> = {}): InitOptions => ({ cwd, version: "0.1.0", kaygraphVersion: "^0.1.0", packageManager: "npm", ...extra });

describe("resolvePlan (no prompts)", () => {
  it("defaults to the current directory, the basic template, install and git", async () => {
    const cwd = path.join(await tempDir(), "My App");
    await mkdir(cwd);
    const plan = await resolvePlan(base(cwd, { kaygraphVersion: undefined }));
    expect(plan).toMatchObject({ targetDir: cwd, shownDir: ".", packageName: "my-app", install: true, git: true, kaygraph: "^0.1.0", packageManager: "npm" });
    expect(plan.template.name).toBe("basic");
  });

  it("takes every answer from flags", async () => {
    const cwd = await tempDir();
    await mkdir(path.join(cwd, "kg"));
    const plan = await resolvePlan(base(cwd, { dir: "svc", template: "streaming", install: false, git: false, kaygraphVersion: "./kg" }));
    expect(plan).toMatchObject({ targetDir: path.join(cwd, "svc"), shownDir: "svc", packageName: "svc", install: false, git: false, kaygraph: `file:${path.join(cwd, "kg")}` });
    expect(plan.template.name).toBe("streaming");
  });

  it("refuses a non-empty directory without --force, listing what is there", async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, "notes.txt"), "");
    const refusal = resolvePlan(base(cwd));
    await expect(refusal).rejects.toMatchObject({ code: "KG_INIT_TARGET_NOT_EMPTY", exitCode: 2, message: ". already holds notes.txt." });
    await expect(refusal).rejects.toHaveProperty("hint", expect.stringContaining("--force"));
    await expect(resolvePlan(base(cwd, { force: true }))).resolves.toMatchObject({ target: { exists: true, entries: ["notes.txt"] } });
  });

  it("refuses a local kaygraph build that does not exist before writing anything", async () => {
    const cwd = await tempDir();
    await expect(resolvePlan(base(cwd, { dir: "a", kaygraphVersion: "./missing.tgz" }))).rejects.toMatchObject({ code: "KG_USAGE", exitCode: 2 });
    expect(await readdir(cwd)).toEqual([]);
  });

  it("refuses an unknown template before looking at the directory", async () => {
    await expect(resolvePlan(base(await tempDir(), { template: "nope" }))).rejects.toMatchObject({ code: "KG_INIT_TEMPLATE_UNKNOWN", exitCode: 2 });
  });

  it("shows a directory outside the current one as an absolute path", () => {
    expect(locate("/work/a", "b/c")).toEqual({ targetDir: "/work/a/b/c", shownDir: "b/c" });
    expect(locate("/work/a", "../x")).toEqual({ targetDir: "/work/x", shownDir: "/work/x" });
    expect(locate("/work/a", ".")).toEqual({ targetDir: "/work/a", shownDir: "." });
  });
});

describe("runInit without prompts", () => {
  it("writes the template, patches package.json, installs, creates a repository and prints the next steps", async () => {
    const cwd = await tempDir();
    const prompter = recordingPrompter();
    const runner = fakeRunner();
    const result = await runInit(base(cwd, { dir: "svc", template: "basic", kaygraphVersion: REPO }), { prompter, interactive: false, run: runner.run });
    const dir = path.join(cwd, "svc");
    expect((await readdir(dir)).sort()).toEqual([".env.example", ".gitignore", "README.md", "graphs", "kaygraph.config.ts", "package.json", "test", "tsconfig.json"]);
    const pkg = JSON.parse(await readFile(path.join(dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "svc", dependencies: { kaygraph: `file:${REPO}` } });
    expect(runner.commands()).toEqual(["npm install", "git rev-parse --is-inside-work-tree", "git init -q", "git add -A", "git commit -q -m Initial commit from kaygraph init"]);
    expect(runner.calls.every((c) => c.cwd === dir)).toBe(true);
    expect(prompter.spinners).toEqual(["start Installing dependencies with npm", "stop Installed dependencies with npm"]);
    expect(result).toMatchObject({ installed: true, git: "committed" });
    expect(prompter.lines.find((l) => l.startsWith("note Next steps"))).toContain("cd svc\nnpm run dev");
    // No .env for a template that needs no secret.
    expect(existsSync(path.join(dir, ".env"))).toBe(false);
  });

  it("runs neither npm nor git with --no-install --no-git", async () => {
    const cwd = await tempDir();
    const runner = fakeRunner();
    const result = await runInit(base(cwd, { dir: "a", install: false, git: false }), { prompter: recordingPrompter(), interactive: false, run: runner.run });
    expect(runner.calls).toEqual([]);
    expect(result).toMatchObject({ installed: false, git: "skipped" });
  });

  it("writes a .env with a generated secret for the production template, readable only by the owner", async () => {
    const cwd = await tempDir();
    await runInit(base(cwd, { dir: "p", template: "production", install: false, git: false }), { prompter: recordingPrompter(), interactive: false, run: fakeRunner().run });
    const env = await readFile(path.join(cwd, "p/.env"), "utf8");
    expect(env).toMatch(/^KAYGRAPH_SECRET_KEY=[A-Za-z0-9_-]{64}$/m);
    const { stat } = await import("node:fs/promises");
    expect((await stat(path.join(cwd, "p/.env"))).mode & 0o777).toBe(0o600);
  });

  it("keeps an existing .env and other files with --force, and says which files it replaced", async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, ".env"), "KAYGRAPH_SECRET_KEY=mine-mine-mine-mine-mine-mine-mine-mine\n");
    await writeFile(path.join(cwd, "README.md"), "old");
    await writeFile(path.join(cwd, "notes.txt"), "keep");
    const prompter = recordingPrompter();
    await runInit(base(cwd, { template: "production", force: true, install: false, git: false }), { prompter, interactive: false, run: fakeRunner().run });
    expect(await readFile(path.join(cwd, ".env"), "utf8")).toBe("KAYGRAPH_SECRET_KEY=mine-mine-mine-mine-mine-mine-mine-mine\n");
    expect(await readFile(path.join(cwd, "notes.txt"), "utf8")).toBe("keep");
    expect(await readFile(path.join(cwd, "README.md"), "utf8")).toContain("production");
    expect(prompter.lines.find((l) => l.startsWith("step Wrote"))).toContain("(replaced README.md)");
  });

  it("warns when a CLI run from a clone would depend on a registry version", async () => {
    const cwd = await tempDir();
    const prompter = recordingPrompter();
    await runInit(base(cwd, { dir: "a", install: false, git: false, kaygraphVersion: undefined }), { prompter, interactive: false, run: fakeRunner().run });
    expect(prompter.lines.find((l) => l.startsWith("warn"))).toMatch(/not from an installed package.*kaygraph@\^0\.1\.0.*--kaygraph-version/s);
  });
});

describe("nextSteps", () => {
  const plan = async (extra: Partial<InitOptions>) => resolvePlan(base(await tempDir(), extra));

  it("skips cd for the current directory and adds install when it was skipped", async () => {
    expect(nextSteps(await plan({ install: false }))).toBe(
      ["npm install", "npm run dev", "npm test", "", "then open http://127.0.0.1:3000/docs", "and call POST /api/v1/process", "(README.md has examples)"].join("\n"),
    );
  });

  it("uses the package manager that ran init and quotes a directory with spaces", async () => {
    const text = nextSteps(await plan({ dir: "my app", packageManager: "pnpm" }));
    expect(text).toMatch(/^cd "my app"\npnpm dev\npnpm test\n/);
    expect(text).toContain("(my app/README.md has examples)");
  });

  it("names the template's main route, and how to get a token for production", async () => {
    expect(nextSteps(await plan({ template: "streaming" }))).toContain("POST /api/v1/chat\n");
    expect(nextSteps(await plan({ template: "production" }))).toContain("POST /api/v2/process\nwith a token from `npx kaygraph token --sub me`");
    expect(nextSteps(await plan({ template: "human-in-the-loop" }))).toContain("POST /api/v1/approve\n");
  });

  it("keeps every line short enough for an 80-column terminal", async () => {
    for (const template of ["basic", "background", "streaming", "production", "human-in-the-loop"]) {
      for (const line of nextSteps(await plan({ template, dir: "some-project" })).split("\n")) expect(line.length).toBeLessThan(70);
    }
  });
});
