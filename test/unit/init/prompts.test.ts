import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runInit, type InitResult } from "../../../src/init/init.js";
import type { InitOptions } from "../../../src/init/plan.js";
import { createClackPrompter } from "../../../src/init/prompter.js";
import { fakeRunner, fakeTerminal, KEY, tempDir } from "./support.js";

/** Starts an interactive `kaygraph init` on a fake terminal; the test answers the prompts. */
async function interactive(extra: Partial<InitOptions> = {}, runnerAnswers: Parameters<typeof fakeRunner>[0] = {}, files: Record<string, string> = {}) {
  const cwd = await tempDir();
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(cwd, name)), { recursive: true });
    await writeFile(path.join(cwd, name), text);
  }
  const term = fakeTerminal();
  const runner = fakeRunner(runnerAnswers);
  const options: InitOptions = { cwd, version: "0.1.0", kaygraphVersion: "^0.1.0", packageManager: "npm", ...extra };
  const done: Promise<InitResult> = runInit(options, { prompter: createClackPrompter({ input: term.input, output: term.output }), interactive: true, run: runner.run });
  // Keep a rejection observed while the test is still typing.
  done.catch(() => undefined);
  /** Waits for a prompt drawn after the last answer, then types `keys`. */
  let from = 0;
  const answer = async (prompt: string, keys: string) => {
    await term.waitFor(prompt, from);
    from = term.mark();
    term.type(keys);
  };
  return { cwd, term, runner, done, answer };
}

describe("interactive init (clack on injected streams)", () => {
  it("asks for the directory, template, install and git, then writes the project", async () => {
    const { cwd, term, runner, done, answer } = await interactive();
    await answer("Where should the project be created?", `svc${KEY.enter}`);
    await answer("Which template?", `${KEY.down}${KEY.enter}`);
    await answer("Install dependencies with npm?", KEY.enter);
    await answer("Create a git repository?", "n");
    const result = await done;
    expect(result.plan).toMatchObject({ targetDir: path.join(cwd, "svc"), install: true, git: false });
    expect(result.plan.template.name).toBe("background");
    expect(existsSync(path.join(cwd, "svc/graphs/report.ts"))).toBe(true);
    expect(JSON.parse(await readFile(path.join(cwd, "svc/package.json"), "utf8")).name).toBe("svc");
    expect(runner.commands()).toEqual(["git rev-parse --is-inside-work-tree", "npm install"]);
    const screen = term.screen();
    // The select lists every template, and the one-line description of the one under the cursor.
    expect(screen).toContain("a long multi-step graph as a background task");
    expect(screen).toContain("human-in-the-loop");
    expect(screen).toContain("Next steps");
    expect(screen).toContain("cd svc");
  });

  it("takes the default directory on Enter", async () => {
    const { cwd, done, answer } = await interactive({ template: "basic", install: false, git: false });
    await answer("Where should the project be created?", KEY.enter);
    expect((await done).plan.targetDir).toBe(path.join(cwd, "my-kaygraph-app"));
  });

  it("asks nothing that a flag answered", async () => {
    const { cwd, term, runner, done } = await interactive({ dir: "a", template: "streaming", install: false, git: false });
    await done;
    expect(existsSync(path.join(cwd, "a/public/index.html"))).toBe(true);
    expect(runner.calls).toEqual([]);
    expect(term.screen()).not.toContain("?");
  });

  it("does not offer git inside an existing repository", async () => {
    const { term, runner, done, answer } = await interactive({ dir: "a", template: "basic" }, { "git rev-parse": { code: 0, output: "true\n" } });
    await answer("Install dependencies with npm?", "n");
    const result = await done;
    expect(result).toMatchObject({ installed: false, git: "skipped" });
    expect(term.screen()).not.toContain("Create a git repository?");
    expect(runner.commands()).toEqual(["git rev-parse --is-inside-work-tree"]);
  });

  it("asks before writing into a non-empty directory; cancelling leaves it as it was", async () => {
    const { cwd, done, answer } = await interactive({ dir: "." }, {}, { "notes.txt": "mine" });
    await answer("is not empty (notes.txt). What now?", KEY.enter);
    await expect(done).rejects.toMatchObject({ code: "KG_CANCELLED", exitCode: 130, message: "Nothing was written; . is as it was." });
    expect(await readdir(cwd)).toEqual(["notes.txt"]);
  });

  it("writes into a non-empty directory when the user says so", async () => {
    const { cwd, done, answer } = await interactive({ dir: "app", template: "basic", install: false, git: false }, {}, { "app/notes.txt": "mine" });
    await answer("What now?", `${KEY.down}${KEY.enter}`);
    await done;
    expect((await readdir(path.join(cwd, "app"))).sort()).toContain("graphs");
    expect(await readFile(path.join(cwd, "app/notes.txt"), "utf8")).toBe("mine");
  });
});

describe("cancelling a prompt", () => {
  const cancels: Array<[string, Partial<InitOptions>, Array<[string, string]>]> = [
    ["the directory prompt with Ctrl-C", {}, [["Where should the project be created?", KEY.ctrlC]]],
    ["the template prompt with Escape", { dir: "a" }, [["Which template?", KEY.escape]]],
    ["the install prompt with Ctrl-C", { dir: "a", template: "basic" }, [["Install dependencies", KEY.ctrlC]]],
    ["the git prompt with Ctrl-C", { dir: "a", template: "basic", install: false }, [["Create a git repository?", KEY.ctrlC]]],
  ];

  it.each(cancels)("ends with exit code 130 and writes nothing: %s", async (_name, flags, steps) => {
    const { cwd, done, answer } = await interactive(flags);
    for (const [prompt, keys] of steps) await answer(prompt, keys);
    await expect(done).rejects.toMatchObject({ code: "KG_CANCELLED", exitCode: 130, message: "Nothing was written." });
    expect(await readdir(cwd)).toEqual([]);
  });
});
