/**
 * Human-in-the-loop interrupts and checkpoints: the types a caller needs to stop a run, persist it and
 * resume it later (in the same process or another one).
 */
import type { Params } from "./node.js";

/**
 * The state of a run between two nodes of its top-level graph: everything needed to continue it.
 * Plain JSON (it crosses processes, threads and databases).
 */
export interface Checkpoint {
  /**
   * The key of the top-level node to run next (its `nodeId`, or `nodeId#n` when several reachable nodes share
   * one: see {@link nodeKeys}); `null` = the top-level runnable from its start (a single node or a batch graph).
   */
  next_node: string | null;
  /** Node steps taken before `next_node` (nested steps included); `maxSteps` keeps counting from here. */
  step: number;
  /** The shared store (a JSON copy). */
  shared: unknown;
  /** The top-level graph's params. */
  params: Params;
  /** Resume values already given to `next_node` (matched by order to its `this.interrupt()` calls). */
  resume: unknown[];
}

/**
 * Thrown out of `run()` when a node called `this.interrupt(value)` with no resume value for that call.
 * `checkpoint` is where to continue; {@link resumeWith} builds the options of the resuming run.
 *
 * @example
 * try {
 *   await graph.run(shared);
 * } catch (error) {
 *   if (!(error instanceof GraphInterrupt)) throw error;
 *   const answer = await askSomeone(error.value);
 *   await graph.run(error.checkpoint.shared, error.resumeWith(answer));
 * }
 */
export class GraphInterrupt extends Error {
  readonly code = "INTERRUPTED";
  /** What the node asked (the argument of `this.interrupt`). */
  readonly value: unknown;
  /** The `nodeId` of the node that called `this.interrupt`. */
  readonly node: string;
  /** Where the resumed run starts: set by the top-level orchestration as the interrupt leaves the run. */
  checkpoint: Checkpoint;

  constructor(value: unknown, node: string, resume: unknown[]) {
    super(`The run was interrupted by node "${node}" and waits for a resume value.`);
    this.name = "GraphInterrupt";
    this.value = value;
    this.node = node;
    this.checkpoint = { next_node: null, step: 0, shared: undefined, params: {}, resume };
  }

  /**
   * The `run()` options that continue this run with `value` as the answer to this interrupt: start at the
   * checkpoint, with the earlier answers of the same node and then `value`.
   */
  resumeWith(value: unknown): { from: Checkpoint; resume: unknown[] } {
    return { from: this.checkpoint, resume: [...this.checkpoint.resume, value] };
  }

  /** True for this class, and for any error that says it is an interrupt (from another copy of kaygraph). */
  static is(error: unknown): error is GraphInterrupt {
    return error instanceof GraphInterrupt || (error instanceof Error && (error as { code?: unknown }).code === "INTERRUPTED");
  }
}

/**
 * The shared store could not be checkpointed: it does not survive a JSON round trip. `key` names the path
 * of the first value that does not (e.g. `shared.draft.createdAt`).
 *
 * @example
 * shared.when = new Date(); // → CheckpointError: shared.when is a Date (store date.toISOString() instead)
 */
export class CheckpointError extends Error {
  readonly code = "CHECKPOINT_FAILED";
  readonly key: string;

  constructor(key: string, problem: string) {
    super(`Cannot checkpoint the shared store: ${key} ${problem}. Keep only JSON values (strings, numbers, booleans, null, arrays, plain objects) in the shared store, or set checkpoint: false on the graph definition.`);
    this.name = "CheckpointError";
    this.key = key;
  }
}
