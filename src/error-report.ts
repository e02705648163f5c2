import { styleText } from "node:util";
import { ExitCode, KaygraphError } from "./errors.js";

/** Where and how errors are printed. */
export interface ReportOptions {
  /** Add stacks and causes (`--debug` or KAYGRAPH_DEBUG=1). */
  debug: boolean;
  /** Defaults to process.stderr. */
  write?: (text: string) => void;
  /** Colour the output (default: stderr is a TTY and NO_COLOR is unset). */
  color?: boolean;
}

/**
 * Prints an error the way a user should see it and returns the exit code. The only place errors are printed.
 * KaygraphError: title, message and hint, no stack. Commander errors: already printed by commander. Anything
 * else: the stack and a request to report the bug.
 */
export function reportError(error: unknown, options: ReportOptions): number {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const color = options.color ?? (process.stderr.isTTY === true && !process.env.NO_COLOR);
  const paint = (style: Parameters<typeof styleText>[0], text: string) => (color ? styleText(style, text) : text);

  if (isCommanderError(error)) {
    // commander printed the message (and our hint) already.
    const ok = error.exitCode === 0;
    return ok ? ExitCode.ok : ExitCode.usage;
  }
  if (KaygraphError.is(error)) {
    const lines = [`${paint("red", "✖")} ${paint("bold", error.title)} ${paint("dim", `[${error.code}]`)}`];
    if (error.message && error.message !== error.title) lines.push(indent(error.message));
    if (error.hint) lines.push(indent(`${paint("cyan", "→")} ${error.hint}`));
    if (options.debug) lines.push(indent(paint("dim", stackOf(error))));
    write(`${lines.join("\n")}\n`);
    return error.exitCode;
  }
  const lines = [
    `${paint("red", "✖")} ${paint("bold", "Unexpected error")} ${paint("dim", "[KG_INTERNAL]")}`,
    indent(stackOf(error)),
    indent("This is a bug in kaygraph; please report it with the output above."),
  ];
  write(`${lines.join("\n")}\n`);
  return ExitCode.failure;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

function stackOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let text = error.stack ?? `${error.name}: ${error.message}`;
  let cause = error.cause;
  while (cause !== undefined) {
    text += `\nCaused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

/**
 * commander's own errors (CommanderError and its subclasses), told by their `commander.*` code rather than by
 * class, so that a worker process, which reports errors here too, does not load commander.
 */
function isCommanderError(error: unknown): error is Error & { code: string; exitCode: number } {
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  return error instanceof Error && typeof code === "string" && code.startsWith("commander.") && typeof exitCode === "number";
}
