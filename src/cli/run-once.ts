import { randomUUID } from "node:crypto";
import { stripVTControlCharacters } from "node:util";
import type { ResolvedConfig } from "../config/schema.js";
import { loadGraphs } from "../definition/load.js";
import { parseGraphRef } from "../definition/registry.js";
import { CancelledReason, runDefinition } from "../definition/run.js";
import { DefinitionRunError } from "../definition/run-errors.js";
import { Errors, KaygraphError } from "../errors.js";
import type { RunEvent } from "../graph/events.js";
import { messageOf } from "../graph/run-errors.js";
import { jsonText } from "../graph/json-text.js";
import type { Checkpoint } from "../graph/interrupt.js";
import type { LoadedGraph } from "../definition/registry.js";
import { readRunInput } from "./input.js";
import { createProgress } from "./progress.js";
import { contextOfCarrier } from "../tracing/propagation.js";
import { startRunSpans } from "../tracing/run-spans.js";
import { startTracing, stopTracing } from "../tracing/sdk.js";

/** Options of {@link runOnce}. */
export interface RunOnceOptions {
  input?: string;
  inputFile?: string;
  timeoutMs?: number;
  /** Print run events as JSON lines instead of the output. */
  events: boolean;
  quiet: boolean;
  /** Answers to the run's interrupts, in order (`--resume`); past them a TTY prompts, anything else fails. */
  resume?: unknown[];
  /** Asks for a resume value on a terminal; default: @clack/prompts when stdin and stderr are TTYs. */
  ask?: AskResume;
}

/** Asks a person for the answer to an interrupt; undefined when there is nobody to ask. */
export type AskResume = (question: { graph: LoadedGraph; node: string; value: unknown }) => Promise<unknown> | undefined;

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
  // Traced like a served run when the OTEL_* variables ask; TRACEPARENT (from a CI job, a script) is the parent.
  await startTracing(process.env);
  const parent = contextOfCarrier(process.env.TRACEPARENT ? { traceparent: process.env.TRACEPARENT } : null);
  const answers = [...(options.resume ?? [])];
  const ask = options.ask ?? askOnTerminal;
  let from: Checkpoint | undefined;
  let resume: unknown[] | undefined;
  try {
    let output: unknown;
    // Each interrupt is answered by the next --resume value (or a prompt), and the run continues in this process.
    for (;;) {
      const requestId = randomUUID();
      const spans = startRunSpans({ graph, transport: "cli", requestId, runId: requestId, taskId: undefined, execution: "inline" }, parent);
      const traced = spans === undefined ? onEvent : (event: RunEvent) => (spans.onEvent(event), onEvent(event));
      try {
        output = await runDefinition(graph, input, { signal: controller.signal, onEvent: traced, requestId, timeoutMs: options.timeoutMs ?? graph.definition.timeoutMs, from, resume });
        spans?.end("completed");
        break;
      } catch (error) {
        const code = (error as { code?: string }).code ?? "GRAPH_ERROR";
        spans?.end(code.toLowerCase(), code === "INTERRUPTED" ? undefined : { code, message: (error as Error).message, node: (error as { node?: string }).node });
        if (!(error instanceof DefinitionRunError) || error.code !== "INTERRUPTED" || error.interrupt === undefined) throw error;
        const stop = error.interrupt;
        progress.stop();
        const answer = answers.length > 0 ? answers.shift() : await ask({ graph, node: stop.node, value: stop.value });
        if (answer === undefined) throw awaitsResume(`${graph.name}@${graph.version}`, stop.node, stop.value, (options.resume ?? []).length);
        from = stop.checkpoint;
        resume = [...stop.checkpoint.resume, answer];
      }
    }
    progress.stop();
    if (options.events) return "";
    return printable(output, `${graph.name}@${graph.version}`);
  } catch (error) {
    progress.stop();
    throw toCliError(error, interrupted, `${graph.name}@${graph.version}`);
  } finally {
    process.off("SIGINT", onSigint);
    await stopTracing();
  }
}

/**
 * The output as JSON text (indented on a terminal), serialised once; one JSON cannot carry (BigInt, cycle, too
 * deep, a throwing toJSON) is a clear error.
 */
function printable(output: unknown, graph: string): string {
  const text = jsonText(output, process.stdout.isTTY ? 2 : undefined);
  if (!text.ok) {
    throw new KaygraphError(Errors.RunFailed, {
      message: `${graph} returned a result that cannot be serialised as JSON (${messageOf(text.error)}).`,
      hint: "Return plain JSON data: strings instead of BigInts, no cycles, a bounded depth.",
    });
  }
  return `${text.text}\n`;
}

/** A run that interrupted with no answer left: what it asks, and how to answer without a terminal. */
function awaitsResume(graph: string, node: string, value: unknown, given: number): KaygraphError {
  const shown = JSON.stringify(value);
  const preview = shown.length > 2000 ? `${shown.slice(0, 2000)}…` : shown;
  return new KaygraphError(Errors.RunAwaitsResume, {
    message: `${graph} stopped at node ${node}, which asks:\n${preview}\n${given > 0 ? `The ${given} --resume value(s) given answered the interrupts before it.` : "No --resume value was given."}`,
    hint: `Answer with --resume '<json>' (repeatable: the nth --resume answers the nth interrupt), or run it on a terminal to be asked.`,
  });
}

/** The default {@link AskResume}: a @clack/prompts text prompt for JSON, checked by the graph's `resume` schema. */
const askOnTerminal: AskResume = (question) => {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  return promptResume(question);
};

async function promptResume({ graph, node, value }: { graph: LoadedGraph; node: string; value: unknown }): Promise<unknown> {
  const clack = await import("@clack/prompts");
  const output = process.stderr;
  clack.log.step(`${graph.name}@${graph.version}: node ${node} asks`, { output });
  clack.log.message(JSON.stringify(value, null, 2), { output });
  const schema = graph.definition.resume;
  const text = await clack.text({
    message: "Resume value (JSON)",
    placeholder: "true, \"text\", {\"approved\": true}",
    output,
    validate: (raw) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw ?? "");
      } catch {
        return "Enter JSON (quote strings: \"yes\")";
      }
      const checked = schema?.safeParse(parsed);
      return checked && !checked.success ? checked.error.issues.map((i) => `${i.path.map(String).join(".") || "value"}: ${i.message}`).join("; ") : undefined;
    },
  });
  if (clack.isCancel(text)) throw new KaygraphError(Errors.Cancelled, { message: "No resume value given; the run was stopped." });
  return JSON.parse(text) as unknown;
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
