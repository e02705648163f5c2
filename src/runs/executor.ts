/**
 * How a run is executed, apart from who asked for it: on the calling thread ({@link InlineExecutor}) or in a
 * worker thread of a pool (see thread-executor.ts). Both take the same {@link RunRequest}.
 */
import type { Identity } from "../definition/define.js";
import type { LoadedGraph } from "../definition/registry.js";
import { runDefinition } from "../definition/run.js";
import type { RunEventListener } from "../graph/events.js";
import type { Checkpoint } from "../graph/interrupt.js";

/**
 * Everything a run needs besides its graph, as plain data: it travels to a worker thread by structured
 * clone as it is, so a field added here (a resume value, a checkpoint, a trace context) reaches the thread
 * without touching the pool.
 */
export interface RunRequest {
  /** The input, already validated by the definition's input schema. */
  input: unknown;
  requestId: string;
  /** `start.run_id`; default the request id. */
  runId: string;
  user?: Identity;
  taskId?: string;
  /** Timeout in ms; none when left out (a background task's is enforced by its runner's signal). */
  timeoutMs?: number;
  /** Start from this checkpoint (a resumed or recovered task). */
  from?: Checkpoint;
  /** Resume values for the checkpoint's node, by order. */
  resume?: readonly unknown[];
}

/** What the caller holds of a run while it executes. */
export interface RunControl {
  /** Aborts the run; a reason with `code: "CANCELLED"` ends it CANCELLED, else ABORTED. */
  signal?: AbortSignal;
  /** Instead of `signal`: the caller's own controller (one controller per run on hot paths). */
  controller?: AbortController;
  /** Every event of the run, in order, the terminal one last. */
  onEvent?: RunEventListener;
  /**
   * Only events of these types are wanted by `onEvent` (observers that count nodes need `node_end` alone):
   * a thread then sends no others across. Left out: every event.
   */
  eventTypes?: ReadonlySet<string>;
  /**
   * Stores each checkpoint (background tasks); the run's next node waits for it. A thread executor forwards
   * the checkpoint (plain JSON) to this caller-side callback and answers the thread when it settles.
   */
  onCheckpoint?: (checkpoint: Checkpoint) => unknown;
  /**
   * `onCheckpoint` answers a fresh run's start checkpoint (the first, at step 0, with no `from`) at once and
   * never fails it: a background task holds it and writes it with its next write (see TaskExecution). A thread
   * then sends it without waiting for the answer, and the run goes on: one round trip between the threads
   * (a turn of each event loop, several ms on a busy machine) less per task.
   */
  startCheckpointHeld?: boolean;
}

/** Executes one validated run; resolves to the output, rejects with a DefinitionRunError. */
export interface RunExecutor {
  readonly kind: "thread" | "inline";
  /** False for a graph this executor cannot run (a thread runs only graphs loaded from files). Default true. */
  hosts?(graph: LoadedGraph): boolean;
  execute(graph: LoadedGraph, request: RunRequest, control: RunControl): Promise<unknown>;
  /** Stops for good (threads terminated); runs still going fail. */
  close(): Promise<void>;
}

/**
 * Runs on the calling thread (today's behaviour, `execution: "inline"`): the fastest, but a graph that never
 * yields blocks everything else on that thread and its timeout cannot fire.
 */
export class InlineExecutor implements RunExecutor {
  readonly kind = "inline";

  execute(graph: LoadedGraph, request: RunRequest, control: RunControl): Promise<unknown> {
    return runDefinition(graph, request.input, {
      inputValidated: true,
      ...(control.controller ? { controller: control.controller } : { signal: control.signal }),
      onEvent: control.onEvent,
      requestId: request.requestId,
      runId: request.runId,
      user: request.user,
      taskId: request.taskId,
      timeoutMs: request.timeoutMs,
      from: request.from,
      resume: request.resume,
      onCheckpoint: control.onCheckpoint,
    });
  }

  async close(): Promise<void> {
    // Nothing to stop: inline runs end with their callers.
  }
}
