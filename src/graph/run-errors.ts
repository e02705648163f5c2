/** Errors the runtime raises on its own: abort and the step guard. */

/**
 * A run was aborted through its AbortSignal (timeout, cancel, client gone, Ctrl-C).
 * `reason` is the signal's reason, so callers can tell a timeout from a cancel.
 *
 * @example
 * try { await graph.run(shared, { signal }) } catch (e) { if (AbortError.is(e)) console.log("stopped") }
 */
export class AbortError extends Error {
  readonly code = "ABORTED";
  /** The signal's reason. */
  readonly reason: unknown;

  constructor(reason?: unknown) {
    super(reasonMessage(reason));
    this.name = "AbortError";
    this.reason = reason;
  }

  /** True for this error class, and for any error that says it is an abort of ours. */
  static is(error: unknown): error is AbortError {
    return error instanceof AbortError || (error instanceof Error && (error as { code?: unknown }).code === "ABORTED");
  }
}

function reasonMessage(reason: unknown): string {
  if (reason instanceof Error && reason.message) return `The run was aborted: ${reason.message}`;
  if (typeof reason === "string" && reason) return `The run was aborted: ${reason}`;
  return "The run was aborted";
}

/**
 * A run took more node steps than its `maxSteps` option allows (a runaway loop).
 *
 * @example
 * await graph.run(shared, { maxSteps: 1000 }); // rejects with MaxStepsError (code "MAX_STEPS") on step 1001
 */
export class MaxStepsError extends Error {
  readonly code = "MAX_STEPS";
  readonly maxSteps: number;
  readonly node: string;

  constructor(maxSteps: number, node: string) {
    super(`The run exceeded maxSteps (${maxSteps}) before node "${node}"; check for a loop that never ends, or raise maxSteps.`);
    this.name = "MaxStepsError";
    this.maxSteps = maxSteps;
    this.node = node;
  }
}

/** Codes the runtime puts in `error` events for its own errors; anything else is `GRAPH_ERROR`. */
const RUNTIME_CODES = new Set(["ABORTED", "MAX_STEPS", "TIMEOUT", "CANCELLED", "VALIDATION_ERROR", "INTERRUPTED", "CHECKPOINT_FAILED", "RESOURCE_EXHAUSTED", "INTERNAL_ERROR"]);

/** The `error_code` of an `error` run event for this error. */
export function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && RUNTIME_CODES.has(code)) return code;
  return "GRAPH_ERROR";
}

/** A readable message for any thrown value. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (typeof error === "string") return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    // A value that cannot be serialised still gets a message.
    return String(error);
  }
}
