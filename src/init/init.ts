import path from "node:path";
import { Errors, KaygraphError } from "../errors.js";
import { packageRoot } from "../package-info.js";
import { runCommand, type CommandRunner } from "./commands.js";
import { askPlan, resolvePlan, type InitOptions, type InitPlan } from "./plan.js";
import { PromptCancelled, type Prompter } from "./prompter.js";
import { scaffold } from "./scaffold.js";
import { initGit, installDependencies, runScript, type GitOutcome } from "./steps.js";

/** How `runInit` talks to the user and the system. */
export interface InitDeps {
  prompter: Prompter;
  /** Ask for what the flags leave open (a terminal, no --yes); otherwise use defaults. */
  interactive: boolean;
  /** Runs npm and git (injectable for tests). */
  run?: CommandRunner;
  /** Where the templates are (default: the package's templates/). */
  templatesRoot?: string;
}

/** What `runInit` did. */
export interface InitResult {
  plan: InitPlan;
  /** Project paths written. */
  files: string[];
  installed: boolean;
  git: GitOutcome | "skipped";
}

/**
 * `kaygraph init`: decides the plan (prompting on a terminal), copies the template, patches package.json,
 * installs dependencies, creates a git repository and prints the next steps. Throws KaygraphError:
 * KG_CANCELLED (130) naming what is on disk, KG_INIT_TARGET_NOT_EMPTY, KG_INIT_TEMPLATE_UNKNOWN,
 * KG_INIT_INSTALL_FAILED, KG_INIT_WRITE_FAILED.
 *
 * @example
 * await runInit({ cwd: process.cwd(), dir: "my-app", template: "basic", install: false, git: false, version: "0.1.0" },
 *   { prompter: createClackPrompter(), interactive: false });
 */
export async function runInit(options: InitOptions, deps: InitDeps): Promise<InitResult> {
  const { prompter } = deps;
  const run = deps.run ?? runCommand;
  prompter.intro("kaygraph init");
  let plan: InitPlan;
  try {
    plan = deps.interactive ? await askPlan(options, prompter, (dir) => insideGitRepository(run, dir)) : await resolvePlan(options);
  } catch (error) {
    if (error instanceof PromptCancelled) throw new KaygraphError(Errors.Cancelled, { message: "Nothing was written." });
    throw error;
  }
  if (options.kaygraphVersion === undefined && !packageRoot.split(/[\\/]/).includes("node_modules")) {
    prompter.warn(
      `This kaygraph runs from ${packageRoot}, not from an installed package, so the project depends on kaygraph@${plan.kaygraph} from the registry. ` +
        `To try this build instead, pass --kaygraph-version ${packageRoot} (or set KAYGRAPH_INIT_DEP).`,
    );
  }
  const written = await scaffold(plan, deps.templatesRoot);
  const replaced = written.overwritten.length > 0 ? ` (replaced ${written.overwritten.join(", ")})` : "";
  prompter.step(`Wrote the ${plan.template.name} template to ${plan.shownDir}: ${written.written.length} files${replaced}`);
  if (plan.install) await installDependencies(plan.targetDir, plan.shownDir, plan.packageManager, { run, prompter });
  const git = plan.git ? await initGit(plan.targetDir, { run, prompter }) : "skipped";
  prompter.note(nextSteps(plan), "Next steps");
  prompter.outro(`Your ${plan.template.name} project ${plan.packageName} is ready.`);
  return { plan, files: written.written, installed: plan.install, git };
}

/**
 * The end screen: the commands to run next, each on its own short line so it survives copy and paste from
 * an 80-column terminal (the README of the project has the longer `curl` examples).
 */
export function nextSteps(plan: InitPlan): string {
  const pm = plan.packageManager;
  const { graph, version } = plan.template.main;
  const lines: string[] = [];
  if (plan.shownDir !== ".") lines.push(`cd ${/\s/.test(plan.shownDir) ? JSON.stringify(plan.shownDir) : plan.shownDir}`);
  if (!plan.install) lines.push(`${pm} install`);
  lines.push(runScript(pm, "dev"), `${pm} test`, "", "then open http://127.0.0.1:3000/docs", `and call POST /api/v${version}/${graph}`);
  if (plan.template.name === "production") lines.push("with a token from `npx kaygraph token --sub me`");
  lines.push(`(${plan.shownDir === "." ? "README.md" : `${path.basename(plan.targetDir)}/README.md`} has examples)`);
  return lines.join("\n");
}

async function insideGitRepository(run: CommandRunner, dir: string): Promise<boolean> {
  const result = await run("git", ["rev-parse", "--is-inside-work-tree"], { cwd: dir });
  return result.code === 0 && result.output.trim() === "true";
}
