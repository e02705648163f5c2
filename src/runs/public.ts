/**
 * What a caller may see of a run: its events and its failure, with the status and public code every
 * transport answers (HTTP, SSE, WebSocket, task records). The one place that maps run failures.
 */
import { DefinitionRunError, type RunErrorCode } from "../definition/run-errors.js";
import type { RunEvent } from "../graph/events.js";

/** The message a caller sees instead of a GRAPH_ERROR's own (outside debug); the log has the real one. */
export const HIDDEN_GRAPH_ERROR = "The graph failed while running; the server log has the details under this request id.";

/**
 * What a caller sees of an `INTERNAL_ERROR` run failure: its result or an event could not be serialised as JSON.
 * The reason (a BigInt, a cycle, nesting too deep, a throwing `toJSON`) names parts of the value: the log has it.
 */
export const UNSERIALISABLE = "The run's result or one of its events cannot be serialised as JSON; the server log has the details under this request id.";

/**
 * The event as a caller may see it: a GRAPH_ERROR's message can carry internals, so outside debug it is
 * replaced by a generic one (the log has the real one), exactly as the sync route answers.
 *
 * @example
 * sse.send(publicEvent(event, ctx.debug));
 */
export function publicEvent(event: RunEvent, debug: boolean): RunEvent {
  if (debug || event.type !== "error") return event;
  if (event.error_code === "GRAPH_ERROR") return { ...event, error: HIDDEN_GRAPH_ERROR };
  if (event.error_code === "INTERNAL_ERROR") return { ...event, error: UNSERIALISABLE };
  return event;
}

/** The public error codes a run failure answers with (a subset of the HTTP API's codes). */
export type PublicRunCode = "VALIDATION_ERROR" | "TIMEOUT" | "UNAVAILABLE" | "GRAPH_ERROR" | "RESOURCE_EXHAUSTED" | "CHECKPOINT_FAILED" | "INTERNAL_ERROR";

/** A run failure as every transport answers it. */
export interface PublicRunError {
  status: number;
  code: PublicRunCode;
  message: string;
  details?: unknown;
}

const STATUS: Record<RunErrorCode, { status: number; code: PublicRunCode }> = {
  VALIDATION_ERROR: { status: 422, code: "VALIDATION_ERROR" },
  TIMEOUT: { status: 504, code: "TIMEOUT" },
  // Aborted (client gone, drain deadline, a neighbour's thread terminated) or cancelled: try again.
  CANCELLED: { status: 503, code: "UNAVAILABLE" },
  ABORTED: { status: 503, code: "UNAVAILABLE" },
  RESOURCE_EXHAUSTED: { status: 500, code: "RESOURCE_EXHAUSTED" },
  GRAPH_ERROR: { status: 500, code: "GRAPH_ERROR" },
  MAX_STEPS: { status: 500, code: "GRAPH_ERROR" },
  // The message names a key of the shared store, never a value: safe to show.
  CHECKPOINT_FAILED: { status: 500, code: "CHECKPOINT_FAILED" },
  // Transports turn an interrupt into a task (202) before it could reach here; never a failure to show.
  INTERRUPTED: { status: 500, code: "GRAPH_ERROR" },
  // The result or an event cannot be serialised as JSON: the server could not answer what the run produced.
  INTERNAL_ERROR: { status: 500, code: "INTERNAL_ERROR" },
};

/**
 * The status, public code, message and details of a failed run. GRAPH_ERROR and MAX_STEPS messages may carry
 * internals: outside debug the message is {@link HIDDEN_GRAPH_ERROR} and no node is named.
 *
 * @example
 * const { status, code, message } = publicRunError(error, false); // 504 TIMEOUT "The run exceeded…"
 */
export function publicRunError(error: DefinitionRunError, debug: boolean): PublicRunError {
  const { status, code } = STATUS[error.code] ?? STATUS.GRAPH_ERROR;
  if (code === "VALIDATION_ERROR") return { status, code, message: error.message, details: error.details };
  if (code === "INTERNAL_ERROR") return { status, code, message: debug ? error.message : UNSERIALISABLE };
  if (code !== "GRAPH_ERROR") return { status, code, message: error.message };
  if (!debug) return { status, code, message: HIDDEN_GRAPH_ERROR };
  return error.node === undefined ? { status, code, message: error.message } : { status, code, message: error.message, details: { node: error.node } };
}
