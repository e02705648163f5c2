import { statSync } from "node:fs";
import path from "node:path";
import { Errors, KaygraphError } from "../errors.js";
import { inspectTarget, type TargetState } from "./copy-plan.js";
import { kaygraphDependency, toPackageName } from "./package-json.js";
import type { Prompter } from "./prompter.js";
import { detectPackageManager, type PackageManager } from "./steps.js";
import { DEFAULT_TEMPLATE, findTemplate, TEMPLATES, type TemplateInfo } from "./templates.js";

/** What `kaygraph init` was told; an undefined field was not given and is asked for (or defaulted). */
export interface InitOptions {
  /** Relative project directories resolve against this. */
  cwd: string;
  /** The `[dir]` argument. */
  dir?: string;
  template?: string;
  install?: boolean;
  git?: boolean;
  /** Write into a non-empty directory (files with the same names are replaced, others kept). */
  force?: boolean;
  /** The `kaygraph` dependency: a version/range, or a path to a clone or an `npm pack` tarball. */
  kaygraphVersion?: string;
  /** The running CLI's version (the default dependency is `^version`). */
  version: string;
  packageManager?: PackageManager;
}

/** Everything decided, before anything is written. */
export interface InitPlan {
  /** Absolute project directory. */
  targetDir: string;
  /** The directory as the user should type it (`cd <shownDir>`), `.` for the current one. */
  shownDir: string;
  packageName: string;
  template: TemplateInfo;
  install: boolean;
  git: boolean;
  /** The `kaygraph` dependency spec written to package.json. */
  kaygraph: string;
  packageManager: PackageManager;
  /** The directory as found: files in it are replaced only because the user allowed it. */
  target: TargetState;
}

/** The directory prompt's default answer (without prompts, `kaygraph init` uses the current directory). */
export const DEFAULT_INTERACTIVE_DIR = "my-kaygraph-app";

/**
 * Decides the plan from flags alone (no prompts): missing values take their defaults, the template must
 * exist, and a non-empty target is refused unless `force`.
 *
 * @example
 * await resolvePlan({ cwd: "/work", dir: "app", template: "streaming", version: "0.1.0" });
 */
export async function resolvePlan(options: InitOptions): Promise<InitPlan> {
  const kaygraph = kaygraphDependency(options.kaygraphVersion, { version: options.version, cwd: options.cwd });
  const template = findTemplate(options.template ?? DEFAULT_TEMPLATE);
  const { targetDir, shownDir } = locate(options.cwd, options.dir ?? ".");
  const target = await inspectTarget(targetDir);
  if (target.entries.length > 0 && options.force !== true) throw notEmpty(shownDir, target);
  return finish(options, { targetDir, shownDir, target, template, kaygraph, install: options.install ?? true, git: options.git ?? true });
}

/**
 * Decides the plan, asking for every value the flags left open: directory, what to do with a non-empty one,
 * template, install, git. Rejects with PromptCancelled when the user cancels a prompt.
 */
export async function askPlan(options: InitOptions, prompter: Prompter, insideGitRepository: (dir: string) => Promise<boolean>): Promise<InitPlan> {
  const pm = options.packageManager ?? detectPackageManager();
  // A local build that does not exist fails now, before any question.
  const kaygraph = kaygraphDependency(options.kaygraphVersion, { version: options.version, cwd: options.cwd });
  const dir =
    options.dir ??
    (await prompter.text({
      message: "Where should the project be created?",
      placeholder: `./${DEFAULT_INTERACTIVE_DIR}`,
      defaultValue: DEFAULT_INTERACTIVE_DIR,
      validate: (value) => validateDir(options.cwd, value || DEFAULT_INTERACTIVE_DIR),
    }));
  const { targetDir, shownDir } = locate(options.cwd, dir);
  const target = await inspectTarget(targetDir);
  if (target.entries.length > 0 && options.force !== true) {
    const choice = await prompter.select({
      message: `${shownDir} is not empty (${listEntries(target)}). What now?`,
      options: [
        { value: "cancel", label: "Cancel", hint: "nothing is written" },
        { value: "write", label: "Write the template into it", hint: "files with the same names are replaced, others are kept" },
      ],
      initialValue: "cancel",
    });
    if (choice === "cancel") throw new KaygraphError(Errors.Cancelled, { message: `Nothing was written; ${shownDir} is as it was.` });
  }
  const template = findTemplate(
    options.template ??
      (await prompter.select({
        message: "Which template?",
        options: TEMPLATES.map((t) => ({ value: t.name, label: t.name, hint: t.description })),
        initialValue: DEFAULT_TEMPLATE,
      })),
  );
  const install = options.install ?? (await prompter.confirm({ message: `Install dependencies with ${pm}?`, initialValue: true }));
  const git = options.git ?? ((await insideGitRepository(nearestExisting(targetDir))) ? false : await prompter.confirm({ message: "Create a git repository?", initialValue: true }));
  return finish({ ...options, packageManager: pm }, { targetDir, shownDir, target, template, kaygraph, install, git });
}

function finish(options: InitOptions, decided: Omit<InitPlan, "packageName" | "packageManager">): InitPlan {
  return { ...decided, packageName: toPackageName(path.basename(decided.targetDir)), packageManager: options.packageManager ?? detectPackageManager() };
}

/** The absolute target and the way to show it: relative to `cwd` when inside it. */
export function locate(cwd: string, dir: string): { targetDir: string; shownDir: string } {
  const targetDir = path.resolve(cwd, dir);
  const relative = path.relative(cwd, targetDir);
  const shownDir = relative === "" ? "." : relative.startsWith("..") || path.isAbsolute(relative) ? targetDir : relative;
  return { targetDir, shownDir };
}

function validateDir(cwd: string, value: string): string | undefined {
  try {
    if (!statSync(path.resolve(cwd, value)).isDirectory()) return `${value} is a file; choose a directory.`;
  } catch {
    // Does not exist yet: it will be created.
  }
  return undefined;
}

function nearestExisting(dir: string): string {
  let current = dir;
  for (;;) {
    try {
      if (statSync(current).isDirectory()) return current;
    } catch {
      // Not there yet: look at the parent.
    }
    const parent = path.dirname(current);
    if (parent === current) return current;
    current = parent;
  }
}

function listEntries(target: TargetState): string {
  const shown = target.entries.slice(0, 5).join(", ");
  return target.entries.length > 5 ? `${shown} and ${target.entries.length - 5} more` : shown;
}

function notEmpty(shownDir: string, target: TargetState): KaygraphError {
  return new KaygraphError(Errors.InitTargetNotEmpty, {
    message: `${shownDir} already holds ${listEntries(target)}.`,
    hint: "Choose an empty or new directory (`kaygraph init my-app`), or pass --force to write into it (files with the same names are replaced).",
  });
}
