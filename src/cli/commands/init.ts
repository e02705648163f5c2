import path from "node:path";
import { Command, Option } from "commander";
import { packageInfo } from "../../package-info.js";
import type { GlobalOptions } from "../project.js";

interface InitFlags {
  template?: string;
  yes?: boolean;
  install: boolean;
  git: boolean;
  force?: boolean;
  kaygraphVersion?: string;
}

/** `kaygraph init [dir]`: a new project from a template; prompts on a terminal, flags for everything. */
export function initCommand(): Command {
  return new Command("init")
    .description("create a project from a template (asks on a terminal; --yes or no terminal: flags and defaults)")
    .argument("[dir]", "project directory (default: asked on a terminal, else the current directory)")
    .option("-t, --template <name>", "basic, background, streaming, production or human-in-the-loop (default: basic)")
    .option("-y, --yes", "ask nothing: defaults for whatever the flags leave open")
    .option("--no-install", "do not install dependencies")
    .option("--no-git", "do not create a git repository")
    .option("-f, --force", "write into a non-empty directory (files with the same names are replaced, others kept)")
    .addOption(
      new Option("--kaygraph-version <spec>", "the project's kaygraph dependency: a version or range, or a path to a clone or an `npm pack` tarball (a local build)").env("KAYGRAPH_INIT_DEP"),
    )
    .action(async (dir: string | undefined, flags: InitFlags, command: Command) => {
      // Only what the user typed counts; a default must not skip the question on a terminal.
      const typed = (name: "install" | "git") => (command.getOptionValueSource(name) === "cli" ? flags[name] : undefined);
      const cwd = path.resolve(command.optsWithGlobals<GlobalOptions>().cwd ?? process.cwd());
      const [{ runInit }, { createClackPrompter }] = await Promise.all([import("../../init/init.js"), import("../../init/prompter.js")]);
      await runInit(
        { cwd, dir, template: flags.template, install: typed("install"), git: typed("git"), force: flags.force, kaygraphVersion: flags.kaygraphVersion, version: packageInfo().version },
        { prompter: createClackPrompter(), interactive: process.stdin.isTTY === true && flags.yes !== true },
      );
    });
}
