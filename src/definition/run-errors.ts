/** Why a definition run failed, with the code every transport (HTTP, WS, SSE, tasks, CLI) reports. */
export type RunErrorCode = "VALIDATION_ERROR" | "GRAPH_ERROR" | "TIMEOUT" | "ABORTED" | "CANCELLED" | "MAX_STEPS" | "RESOURCE_EXHAUSTED";

/**
 * A failed definition run. `message` is safe to show the caller for VALIDATION_ERROR, TIMEOUT and aborts;
 * for GRAPH_ERROR the server shows it only in debug/dev (the cause goes to the log).
 */
export class DefinitionRunError extends Error {
  readonly code: RunErrorCode;
  /** The node that failed, when known. */
  readonly node: string | undefined;
  /** Structured details (zod issues for validation errors). */
  readonly details: unknown;

  constructor(code: RunErrorCode, message: string, options: { node?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DefinitionRunError";
    this.code = code;
    this.node = options.node;
    this.details = options.details;
  }
}

/** Readable one-line-per-issue text of zod issues (`text: expected string, received number`). */
export function formatIssues(issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>): string {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "(input)"}: ${i.message}`).join("\n");
}
