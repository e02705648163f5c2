/**
 * The one event model used everywhere (WebSocket, SSE, task events, `kaygraph run --events`).
 * Every run produces `start`, node events, `data` chunks and exactly one terminal event.
 */

interface EventBase {
  /** 1, 2, 3… per run, no gaps. */
  seq: number;
  /** Epoch milliseconds. */
  ts: number;
}

/** The run began. */
export interface StartEvent extends EventBase {
  type: "start";
  run_id: string;
}
/** A node step began. */
export interface NodeStartEvent extends EventBase {
  type: "node_start";
  node: string;
}
/**
 * A node step ended with `action` (the resolved action, `"default"` when post returned nothing). `retries`:
 * the exec attempts after the first one, present only when there were some.
 */
export interface NodeEndEvent extends EventBase {
  type: "node_end";
  node: string;
  action: string;
  duration_ms: number;
  retries?: number;
}
/** A node called `this.emit(chunk)`. */
export interface DataEvent extends EventBase {
  type: "data";
  node: string;
  chunk: unknown;
}
/** Terminal: the run's result. */
export interface ResultEvent extends EventBase {
  type: "result";
  result: unknown;
}
/** Terminal: the run failed. `node` names the failing node when known. */
export interface ErrorEvent extends EventBase {
  type: "error";
  error: string;
  error_code: string;
  node?: string;
}

/**
 * Terminal for this attempt: `node` called `this.interrupt(value)`; the run waits for a resume value.
 * A served run that became a task carries its `task_id`.
 */
export interface InterruptEvent extends EventBase {
  type: "interrupt";
  node: string;
  value: unknown;
  task_id?: string;
}

/** Any run event. */
export type RunEvent = StartEvent | NodeStartEvent | NodeEndEvent | DataEvent | ResultEvent | ErrorEvent | InterruptEvent;

/** The type names of run events. */
export type RunEventType = RunEvent["type"];

/** True for `result`, `error` and `interrupt`, the events that end a run (an interrupt ends the attempt). */
export function isTerminalEvent(event: { type: string }): boolean {
  return event.type === "result" || event.type === "error" || event.type === "interrupt";
}

/** True for `result` and `error`, the events that end a task for good (a task goes on after an interrupt). */
export function isFinalEvent(event: { type: string }): boolean {
  return event.type === "result" || event.type === "error";
}

/** A listener for run events. */
export type RunEventListener = (event: RunEvent) => void;
