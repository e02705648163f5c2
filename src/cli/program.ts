import { Command } from "commander";
import { packageInfo } from "../package-info.js";
import { commandFactories } from "./commands/index.js";

/**
 * Builds the `kaygraph` command tree. Commands are thin: each turns its flags into options and calls a
 * library function, loading heavy modules lazily so `--help` stays fast.
 */
export function createProgram(): Command {
  const program = new Command("kaygraph")
    .description("Serve graph workflows (prep → exec → post nodes) as production APIs.")
    .version(packageInfo().version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .option("--config <path>", "config file (default: kaygraph.config.{ts,js,mjs,json} in --cwd)")
    .option("--cwd <dir>", "project directory (default: the current directory)")
    .option("--debug", "print stacks and causes with errors (also KAYGRAPH_DEBUG=1)")
    .showSuggestionAfterError(true)
    .showHelpAfterError('(run "kaygraph --help" for usage)')
    .exitOverride();
  for (const factory of commandFactories) {
    program.addCommand(factory().exitOverride().showHelpAfterError('(add "--help" for usage)'));
  }
  return program;
}
