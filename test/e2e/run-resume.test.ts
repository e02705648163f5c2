/**
 * `kaygraph run` of a graph that interrupts: `--resume` answers without a terminal (matched by order), no
 * answer without a terminal is a clear KG_RUN_AWAITS_RESUME error, and on a pseudo-terminal (util-linux
 * `script`) the value is shown and the answer typed in continues the run in the same process.
 */
import { cpSync } from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { execa } from "execa";
import { describe, expect, it, onTestFinished } from "vitest";
import { BIN, runCli } from "../helpers/cli.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { DURABLE_GRAPHS } from "../helpers/task-fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

const REPO = path.resolve(import.meta.dirname, "../..");
const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

async function project(): Promise<{ cwd: string; env: Record<string, string> }> {
  const cwd = await tmpProject({ "package.json": PACKAGE_JSON, ...DURABLE_GRAPHS });
  return { cwd, env: { TASK_LOG: path.join(cwd, "side-effects.log") } };
}

describe("kaygraph run with interrupts", () => {
  it("--resume answers without a terminal; none left is KG_RUN_AWAITS_RESUME naming the value and how to answer", async () => {
    const { cwd, env } = await project();
    const input = ["--input", '{"topic":"otters"}'];
    const answered = await runCli(["run", "approve", ...input, "--resume", '{"approved":true,"note":"ok"}', "-q"], { cwd, env });
    expect(answered.stderr).toBe("");
    expect(answered.exitCode).toBe(0);
    expect(JSON.parse(answered.stdout)).toEqual({ published: true, note: "ok", draft: "A post about otters" });

    const unanswered = await runCli(["run", "approve", ...input, "-q"], { cwd, env });
    expect(unanswered.exitCode).toBe(2);
    expect(unanswered.stdout).toBe("");
    expect(unanswered.stderr).toContain("KG_RUN_AWAITS_RESUME");
    expect(unanswered.stderr).toContain("stopped at node Review");
    expect(unanswered.stderr).toContain('"question":"Publish this draft?"');
    expect(unanswered.stderr).toContain("--resume '<json>'");
    expect(unanswered.stderr).not.toMatch(/\n\s+at /);

    const invalid = await runCli(["run", "approve", ...input, "--resume", '{"approved":"maybe"}', "-q"], { cwd, env });
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain("KG_INPUT_INVALID");
    expect(invalid.stderr).toContain("approved");

    const notJson = await runCli(["run", "approve", ...input, "--resume", "yes"], { cwd, env });
    expect(notJson.exitCode).toBe(2);
    expect(notJson.stderr).toContain("KG_USAGE");
    expect(notJson.stderr).toContain("--resume must be JSON");
  });

  it("on a terminal: shows what the node asks, takes the answer and continues in the same process", async () => {
    const { cwd, env } = await project();
    const args = ["run", "approve", "--input", '{"topic":"tty"}'];
    const command = `stty cols 120 rows 40; exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(" ")}`;
    const child = execa("script", ["-qec", command, "/dev/null"], { cwd, reject: false, env: { TERM: "xterm-256color", NO_COLOR: "1", CI: "", ...env }, forceKillAfterDelay: 2_000 });
    onTestFinished(() => void child.kill("SIGKILL"));
    let raw = "";
    const wakers = new Set<() => void>();
    child.stdout?.on("data", (chunk: Buffer) => {
      raw += chunk.toString();
      for (const wake of wakers) wake();
    });
    const screen = () => stripVTControlCharacters(raw);
    const waitFor = (text: string, from = 0) =>
      new Promise<number>((resolve, reject) => {
        const check = () => {
          const at = screen().indexOf(text, from);
          if (at < 0) return;
          wakers.delete(check);
          clearTimeout(timer);
          resolve(at + text.length);
        };
        const timer = setTimeout(() => reject(new Error(`the terminal never showed ${JSON.stringify(text)}:\n${screen()}`)), 30_000);
        wakers.add(check);
        check();
      });
    const prompt = await waitFor("Resume value (JSON)");
    // A wrong answer first: the graph's resume schema refuses it and the prompt stays.
    child.stdin?.write('{"approved":"x"}\r');
    await waitFor("approved: ", prompt);
    child.stdin?.write(`${"\x7f".repeat(16)}{"approved":true,"note":"typed"}\r`);
    const result = await child;
    const shown = screen();
    expect(result.exitCode, shown).toBe(0);
    expect(shown).toContain("node Review asks");
    expect(shown).toContain("Publish this draft?");
    expect(shown).toContain('"note": "typed"');
  });
});

describe("examples/human-in-the-loop", () => {
  it("drafts, takes feedback for a second draft, then publishes: --resume answers each review by order", async () => {
    const cwd = await tmpProject({ "package.json": PACKAGE_JSON });
    cpSync(path.join(REPO, "examples/human-in-the-loop/graphs"), path.join(cwd, "graphs"), { recursive: true });
    const result = await runCli(["run", "approve", "--input", '{"topic":"otters"}', "--resume", '{"approved":false,"feedback":"mention sea kelp"}', "--resume", '{"approved":true}', "-q"], { cwd });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ published: true, text: "A short post about otters, revised: mention sea kelp.", revisions: 1 });
    const listed = await runCli(["graphs", "--json"], { cwd });
    expect(JSON.parse(listed.stdout)).toMatchObject([{ name: "approve", resume: true, checkpoint: true }]);
    expect((await runCli(["graphs"], { cwd })).stdout).toContain("[resumable] Drafts a post");
  });
});
