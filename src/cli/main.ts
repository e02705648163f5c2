import { createProgram } from "./program.js";
import { reportError } from "../error-report.js";

/** True when `--debug` is on the command line or KAYGRAPH_DEBUG is set to a truthy value. */
export function isDebug(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  const flag = env.KAYGRAPH_DEBUG;
  return argv.includes("--debug") || (flag !== undefined && flag !== "" && flag !== "0" && flag !== "false");
}

/**
 * The CLI entry: parses `argv`, runs the command, and is the one place that catches, prints and exits.
 *
 * @example
 * await runMain(["node", "kaygraph", "--version"]);
 */
export async function runMain(argv: readonly string[] = process.argv): Promise<never> {
  const debug = isDebug(argv);
  // A closed pipe (`kaygraph run … | head`) is the reader's choice, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    await createProgram().parseAsync([...argv]);
  } catch (error) {
    process.exitCode = reportError(error, { debug });
  }
  // Exit once, here: open handles (timers, sockets of libraries) must not keep a finished command alive.
  process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
}
