import { stripVTControlCharacters } from "node:util";
import type { ResolvedConfig } from "../config/schema.js";
import { loadGraphs } from "../definition/load.js";
import { parseGraphRef } from "../definition/registry.js";
import { CancelledReason, runDefinition } from "../definition/run.js";
import { DefinitionRunError } from "../definition/run-errors.js";
import { Errors, KaygraphError } from "../errors.js";
import type { RunEvent } from "../graph/events.js";
import { readRunInput } from "./input.js";
import { createProgress } from "./progress.js";

/** Options of {@link runOnce}. */
export interface RunOnceOptions {
  input?: string;
  inputFile?: string;
  timeoutMs?: number;
  /** Print run events as JSON lines instead of the output. */
  events: boolean;
  quiet: boolean;
}

/**
 * The work of `kaygraph run`: load the graphs, read and validate the input, run with progress on stderr,
 * and return what goes to stdout (the output JSON, or the event lines). Ctrl-C aborts the run through its
 * signal (exit 130); a second Ctrl-C exits at once.
 */
export async function runOnce(config: ResolvedConfig, ref: string, options: RunOnceOptions): Promise<string> {
  const { name, version } = parseGraphRef(ref);
  const registry = await loadGraphs(config);
  const graph = registry.get(name, version);
  const input = await readRunInput({ input: options.input, inputFile: options.inputFile, cwd: config.root, stdin: process.stdin });

  const controller = new AbortController();
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    controller.abort(new CancelledReason("Interrupted (Ctrl-C)"));
  };
  process.on("SIGINT", onSigint);

  const progress = createProgress(options.quiet || options.events ? "quiet" : process.stderr.isTTY ? "tty" : "lines");
  const onEvent = (event: RunEvent) => {
    progress.onEvent(event);
    if (options.events) process.stdout.write(`${JSON.stringify(event)}\n`);
  };
  try {
    const output = await runDefinition(graph, input, {
      signal: controller.signal,
      onEvent,
      timeoutMs: options.timeoutMs ?? graph.definition.timeoutMs,
    });
    progress.stop();
    if (options.events) return "";
    return process.stdout.isTTY ? `${JSON.stringify(output, null, 2)}\n` : `${JSON.stringify(output)}\n`;
  } catch (error) {
    progress.stop();
    throw toCliError(error, interrupted, `${graph.name}@${graph.version}`);
  } finally {
    process.off("SIGINT", onSigint);
  }
}

function toCliError(error: unknown, interrupted: boolean, graph: string): unknown {
  if (!(error instanceof DefinitionRunError)) return error;
  if (interrupted) return new KaygraphError(Errors.Interrupted, { message: `The run of ${graph} was interrupted.`, cause: error });
  // A MAX_STEPS message already names the node the step guard stopped, which never ran: no "failed in".
  const where = error.node && error.code !== "MAX_STEPS" ? ` in node ${error.node}` : "";
  switch (error.code) {
    case "VALIDATION_ERROR":
      return new KaygraphError(Errors.InputInvalid, { message: error.message, hint: "Fix the input to match the graph's input schema (see `kaygraph graphs`)." });
    case "TIMEOUT":
      return new KaygraphError(Errors.RunTimeout, { message: `${graph}: ${error.message}${where}`, cause: error });
    default:
      return new KaygraphError(Errors.RunFailed, { message: `${graph} failed${where}: ${stripVTControlCharacters(error.message)}`, cause: error.cause ?? error });
  }
}
