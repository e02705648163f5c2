import { describe, expect, it, onTestFinished, vi } from "vitest";
import { runCommand, tail } from "../../../src/init/commands.js";
import { detectPackageManager, initGit, installDependencies, runScript } from "../../../src/init/steps.js";
import { fakeRunner, recordingPrompter, tempDir } from "./support.js";

describe("detectPackageManager", () => {
  it.each([
    [undefined, "npm"],
    ["npm/11.19.1 node/v20.20.2 linux x64 workspaces/false", "npm"],
    ["pnpm/9.12.0 npm/? node/v20.20.2 linux x64", "pnpm"],
    ["yarn/4.5.0 npm/? node/v20.20.2 linux x64", "yarn"],
    ["bun/1.1.30 npm/? node/v22.0.0 linux x64", "bun"],
    ["something/1.0", "npm"],
  ] as const)("%s → %s", (agent, pm) => {
    expect(detectPackageManager(agent)).toBe(pm);
  });

  it("names scripts the way each manager runs them", () => {
    expect(runScript("npm", "dev")).toBe("npm run dev");
    expect(runScript("pnpm", "dev")).toBe("pnpm dev");
  });
});

describe("installDependencies", () => {
  it("shows the package manager's output when it fails, and says the files are there", async () => {
    const output = `${Array.from({ length: 60 }, (_, i) => `line ${i}`).join("\n")}\nnpm error 404 Not Found - GET https://registry.npmjs.org/nope`;
    const runner = fakeRunner({ "npm install": { code: 1, output } });
    const prompter = recordingPrompter();
    const failure = installDependencies("/x/app", "app", "npm", { run: runner.run, prompter });
    await expect(failure).rejects.toMatchObject({ code: "KG_INIT_INSTALL_FAILED", exitCode: 1 });
    const error = (await failure.catch((e: unknown) => e)) as Error;
    expect(error.message).toContain("npm install exited with 1:");
    expect(error.message).toContain("npm error 404 Not Found");
    expect(error.message).not.toContain("line 5\n");
    expect(error.message).toContain("The project files are in app; run `npm install` there to finish.");
    expect(prompter.spinners).toEqual(["start Installing dependencies with npm", "error npm install failed"]);
  });

  it("says when the package manager is not installed", async () => {
    const runner = fakeRunner({ "pnpm install": { code: null, error: Object.assign(new Error("spawn pnpm ENOENT"), { code: "ENOENT" }) } });
    const failure = installDependencies("/x/app", "app", "pnpm", { run: runner.run, prompter: recordingPrompter() });
    await expect(failure).rejects.toThrow(/pnpm could not be started \(ENOENT\)/);
    await expect(failure).rejects.toHaveProperty("hint", "Install pnpm, or run again with --no-install.");
  });

  it("stops the package manager on Ctrl-C and ends as cancelled (130), naming what is on disk", async () => {
    const prompter = recordingPrompter();
    let cancel: (() => void) | undefined;
    prompter.spinner = (options = {}) => {
      cancel = options.onCancel;
      return { start: (m) => prompter.spinners.push(`start ${m}`), stop: (m) => prompter.spinners.push(`stop ${m}`), error: (m) => prompter.spinners.push(`error ${m}`) };
    };
    const runner = fakeRunner({
      "npm install": (signal) =>
        new Promise((resolve) => {
          signal?.addEventListener("abort", () => resolve({ code: null, signal: "SIGTERM" }));
          cancel?.();
        }),
    });
    const failure = installDependencies("/x/app", "app", "npm", { run: runner.run, prompter });
    await expect(failure).rejects.toMatchObject({ code: "KG_CANCELLED", exitCode: 130 });
    await expect(failure).rejects.toThrow("Dependencies were not installed. The project files are in app; run `npm install` there to finish.");
  });
});

describe("initGit", () => {
  it("leaves a directory inside a repository alone", async () => {
    const runner = fakeRunner({ "git rev-parse": { code: 0, output: "true\n" } });
    const prompter = recordingPrompter();
    expect(await initGit("/x", { run: runner.run, prompter })).toBe("inside-repository");
    expect(runner.commands()).toEqual(["git rev-parse --is-inside-work-tree"]);
    expect(prompter.lines[0]).toMatch(/^info .*inside a git repository/);
  });

  it("warns and goes on without git", async () => {
    const runner = fakeRunner({ "git rev-parse": { code: null, error: Object.assign(new Error("spawn git ENOENT"), { code: "ENOENT" }) } });
    const prompter = recordingPrompter();
    expect(await initGit("/x", { run: runner.run, prompter })).toBe("git-missing");
    expect(prompter.lines).toEqual(["warn git was not found, so no repository was created."]);
  });

  it("keeps the files staged when the first commit fails (no identity)", async () => {
    const runner = fakeRunner({ "git commit": { code: 128, output: "Author identity unknown\n*** Please tell me who you are." } });
    const prompter = recordingPrompter();
    expect(await initGit("/x", { run: runner.run, prompter })).toBe("initialised");
    expect(prompter.lines[0]).toMatch(/^warn Created a git repository with the files staged; the first commit failed:\n.*Please tell me who you are/s);
  });

  it("creates a real repository with a first commit", async () => {
    const dir = await tempDir();
    const { writeFile } = await import("node:fs/promises");
    await writeFile(`${dir}/a.txt`, "a");
    // An identity for the commit, whatever the machine's git config says.
    for (const role of ["AUTHOR", "COMMITTER"]) {
      vi.stubEnv(`GIT_${role}_NAME`, "kaygraph test");
      vi.stubEnv(`GIT_${role}_EMAIL`, "test@example.invalid");
    }
    onTestFinished(() => {
      vi.unstubAllEnvs();
    });
    expect(await initGit(dir, { run: runCommand, prompter: recordingPrompter() })).toBe("committed");
    const log = await runCommand("git", ["log", "--format=%s", "--name-only"], { cwd: dir });
    expect(log.output.trim()).toBe("Initial commit from kaygraph init\n\na.txt");
  });
});

describe("runCommand", () => {
  it("collects stdout and stderr and the exit code", async () => {
    const result = await runCommand(process.execPath, ["-e", "console.log('out'); console.error('err'); process.exit(3)"], { cwd: process.cwd() });
    expect(result).toMatchObject({ code: 3, signal: null });
    expect(result.output).toContain("out");
    expect(result.output).toContain("err");
  });

  it("reports a command that does not exist instead of throwing", async () => {
    const result = await runCommand("kaygraph-no-such-command", [], { cwd: process.cwd() });
    expect(result.error?.code).toBe("ENOENT");
  });

  it("kills the command when the signal aborts", async () => {
    const controller = new AbortController();
    const running = runCommand(process.execPath, ["-e", "console.log('started'); setInterval(() => {}, 1000)"], { cwd: process.cwd(), signal: controller.signal });
    controller.abort();
    const result = await running;
    expect(result.signal).toBe("SIGTERM");
    expect(result.error).toBeUndefined();
  });

  it("tail keeps the last non-empty lines", () => {
    expect(tail("a\n\nb\r\nc\n", 2)).toBe("b\nc");
  });
});
