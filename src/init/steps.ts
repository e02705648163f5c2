import { Errors, KaygraphError } from "../errors.js";
import { tail, type CommandRunner } from "./commands.js";
import type { Prompter } from "./prompter.js";

/** Package managers `init` knows how to drive. */
export type PackageManager = "npm" | "pnpm" | "yarn" | "bun";

/**
 * The package manager that started this command (`npx`, `pnpm dlx`, `yarn dlx`, `bunx` set
 * `npm_config_user_agent`), else npm.
 *
 * @example
 * detectPackageManager("pnpm/9.12.0 npm/? node/v20.20.2 linux x64"); // "pnpm"
 */
export function detectPackageManager(userAgent: string | undefined = process.env.npm_config_user_agent): PackageManager {
  const name = userAgent?.split(" ")[0]?.split("/")[0];
  return name === "pnpm" || name === "yarn" || name === "bun" ? name : "npm";
}

/** `npm run dev`, `pnpm dev`… */
export function runScript(pm: PackageManager, script: string): string {
  return pm === "npm" ? `npm run ${script}` : `${pm} ${script}`;
}

/**
 * Installs the project's dependencies behind a spinner. Ctrl-C stops the package manager and ends with
 * KG_CANCELLED (130); a failing install ends with KG_INIT_INSTALL_FAILED and the package manager's output.
 * Either way the error says that the project files are in place.
 */
export async function installDependencies(dir: string, shownDir: string, pm: PackageManager, deps: { run: CommandRunner; prompter: Prompter }): Promise<void> {
  const controller = new AbortController();
  const spinner = deps.prompter.spinner({ onCancel: () => controller.abort() });
  spinner.start(`Installing dependencies with ${pm}`);
  const result = await deps.run(pm, ["install"], { cwd: dir, signal: controller.signal });
  const filesNote = `The project files are in ${shownDir}; run \`${pm} install\` there to finish.`;
  if (controller.signal.aborted) {
    spinner.error("Install cancelled");
    throw new KaygraphError(Errors.Cancelled, { message: `Dependencies were not installed. ${filesNote}` });
  }
  if (result.error || result.code !== 0) {
    spinner.error(`${pm} install failed`);
    const why = result.error ? `${pm} could not be started (${result.error.code ?? result.error.message}).` : `${pm} install exited with ${result.code ?? result.signal}:\n${tail(result.output)}`;
    throw new KaygraphError(Errors.InitInstallFailed, {
      message: `${why}\n${filesNote}`,
      hint: result.error ? `Install ${pm}, or run again with --no-install.` : "Fix the problem shown above, then install again in the project directory.",
    });
  }
  spinner.stop(`Installed dependencies with ${pm}`);
}

/** What {@link initGit} did. */
export type GitOutcome = "committed" | "initialised" | "inside-repository" | "git-missing";

/**
 * `git init` plus a first commit of every file. Skipped inside an existing work tree (the project is part of
 * that repository) or without git. A commit that fails (no user.name/email) leaves the files staged.
 */
export async function initGit(dir: string, deps: { run: CommandRunner; prompter: Prompter }): Promise<GitOutcome> {
  const inside = await deps.run("git", ["rev-parse", "--is-inside-work-tree"], { cwd: dir });
  if (inside.error) {
    deps.prompter.warn("git was not found, so no repository was created.");
    return "git-missing";
  }
  if (inside.code === 0 && inside.output.trim() === "true") {
    deps.prompter.info("The directory is inside a git repository already; no new repository was created.");
    return "inside-repository";
  }
  const steps: Array<readonly string[]> = [["init", "-q"], ["add", "-A"]];
  for (const args of steps) {
    const result = await deps.run("git", args, { cwd: dir });
    if (result.code !== 0) {
      deps.prompter.warn(`git ${args[0]} failed, so the repository is incomplete:\n${tail(result.output, 10)}`);
      return "initialised";
    }
  }
  const commit = await deps.run("git", ["commit", "-q", "-m", "Initial commit from kaygraph init"], { cwd: dir });
  if (commit.code !== 0) {
    deps.prompter.warn(`Created a git repository with the files staged; the first commit failed:\n${tail(commit.output, 5)}`);
    return "initialised";
  }
  deps.prompter.step("Created a git repository with a first commit");
  return "committed";
}
