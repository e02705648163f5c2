import type { Checkpoint } from "../graph/interrupt.js";

/**
 * Why a definition run failed, with the code every transport (HTTP, WS, SSE, tasks, CLI) reports.
 * `INTERNAL_ERROR`: the run's result or one of its events cannot be serialised as JSON (a BigInt, a cycle, a
 * value nested too deep, a `toJSON` that throws), so no transport could carry it.
 */
export type RunErrorCode = "VALIDATION_ERROR" | "GRAPH_ERROR" | "TIMEOUT" | "ABORTED" | "CANCELLED" | "MAX_STEPS" | "RESOURCE_EXHAUSTED" | "CHECKPOINT_FAILED" | "INTERRUPTED" | "INTERNAL_ERROR";

/** What an interrupted definition run leaves behind: who asked what, and where to resume. */
export interface RunInterrupt {
  node: string;
  /** The interrupt's value (checked to round-trip through JSON). */
  value: unknown;
  /** Where the resumed run starts (its `shared` checked to round-trip through JSON). */
  checkpoint: Checkpoint;
}

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
  /** For code INTERRUPTED: the interrupt and its checkpoint. */
  readonly interrupt: RunInterrupt | undefined;
  /**
   * True when the run was stopped through no fault of its own (a neighbour's thread was terminated, the
   * server shut down): a background task hands it back without counting the attempt.
   */
  readonly rerunnable: boolean;

  constructor(code: RunErrorCode, message: string, options: { node?: string; details?: unknown; cause?: unknown; interrupt?: RunInterrupt; rerunnable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DefinitionRunError";
    this.code = code;
    this.node = options.node;
    this.details = options.details;
    this.interrupt = options.interrupt;
    this.rerunnable = options.rerunnable ?? false;
  }
}

/** Readable one-line-per-issue text of zod issues (`text: expected string, received number`). */
export function formatIssues(issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>): string {
  return issues.map((i) => `${i.path.length ? i.path.map(String).join(".") : "(input)"}: ${i.message}`).join("\n");
}
