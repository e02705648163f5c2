import { randomUUID } from "node:crypto";
import { checkpointJson, makeCheckpoint } from "./checkpoint.js";
import type { RunEvent, RunEventListener } from "./events.js";
import { GraphInterrupt, type Checkpoint } from "./interrupt.js";
import type { Params } from "./node.js";
import { AbortError, MaxStepsError, errorCodeOf, messageOf } from "./run-errors.js";

/** Options accepted by `run()` on every node and graph. */
export interface RunOptions {
  /** Aborts the run: checked between steps and during `wait`; visible as `this.signal` in nodes. */
  signal?: AbortSignal;
  /**
   * @internal Instead of `signal`: an abort whose signal is made only when a node asks for it (kaygraph's
   * servers pass one per request: most runs never read their signal, and making one has a cost).
   */
  abort?: AbortSource;
  /** Receives every run event, in order. */
  onEvent?: RunEventListener;
  /** Ends a runaway loop: the run rejects with code `MAX_STEPS` when it would take more node steps. */
  maxSteps?: number;
  /** Id put in the `start` event; a random UUID by default. */
  runId?: string;
  /** Read-only information for nodes, visible as `this.context` (a served graph gets the caller and request id). */
  context?: Readonly<Record<string, unknown>>;
  /**
   * Checkpoints: `true` takes a JSON copy of the shared store before the first node and after every node of
   * the top-level graph (so an interrupted node is resumed on the store as it was before it ran); a function
   * also receives each checkpoint, and the next node waits for it (store it durably there). A store that does
   * not round-trip through JSON rejects the run with `CheckpointError` (code `CHECKPOINT_FAILED`). Off by default.
   */
  checkpoint?: boolean | ((checkpoint: Checkpoint) => unknown);
  /** Start from a checkpoint (a `GraphInterrupt`'s, or one saved earlier): pass its `shared` as run's first argument. */
  from?: Checkpoint;
  /** Resume values for the first node that runs, matched by order to its `this.interrupt()` calls. */
  resume?: readonly unknown[];
}

const NO_RESUME: readonly unknown[] = Object.freeze([]);

const EMPTY_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});

/** @internal What {@link RunOptions.abort} takes: read between steps; its signal is made when first read. */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  readonly signal: AbortSignal;
}

/** A signal that never fires, for runs whose caller gave none. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * The state of one run, shared by every node step of it: signal, step count, event sequence.
 * Nodes never keep it across runs; each step's node copy points at the context of its run.
 */
export class RunContext {
  /** The caller's signal (whatever its realm or implementation), when it gave one. */
  private readonly givenSignal: AbortSignal | undefined;
  /** Instead: a source whose signal is made on first use. */
  private readonly abortSource: AbortSource | undefined;
  readonly maxSteps: number;
  readonly context: Readonly<Record<string, unknown>>;
  /** Node steps taken so far, nested graphs included. */
  steps = 0;
  /**
   * Monotonic clock reading of the latest event. An orchestration that moves straight from one step to the
   * next starts the next step at this reading instead of reading the clock again: clock reads are the largest
   * cost of observed runs, and nothing but the orchestrator's own bookkeeping happens in between.
   */
  lastClock = -1;
  /** The nodeId of the innermost node whose error is escaping, for the `error` event. */
  failedNode: string | undefined;
  /** True when checkpoints are taken (the `checkpoint` option). */
  readonly checkpointing: boolean;
  /** Where the run starts (the `from` option); cleared once the top-level orchestration used it. */
  from: Checkpoint | undefined;
  /** @internal The top-level node copy of the run: its orchestration takes the checkpoints. */
  top: unknown;
  private readonly onCheckpoint: ((checkpoint: Checkpoint) => unknown) | undefined;
  /** Resume values of the current top-level step, and how many `interrupt()` calls it made so far. */
  private resumeValues: readonly unknown[];
  private interrupts = 0;
  /** The latest checkpoint, as JSON text of the shared store: an interrupted step is resumed from it. */
  private snapshot: { nextNode: string | null; step: number; params: Params; shared: string } | undefined;
  private readonly listener: RunEventListener | undefined;
  private seq = 0;
  private ended = false;
  // Both computed on first use: runs nobody watches never pay for a UUID or clock reads.
  private givenRunId: string | undefined;
  private clockOffset = Number.NaN;

  constructor(options: RunOptions = {}) {
    this.abortSource = options.abort;
    this.givenSignal = options.signal;
    this.listener = options.onEvent;
    this.givenRunId = options.runId;
    this.context = options.context ?? EMPTY_CONTEXT;
    const maxSteps = options.maxSteps ?? Number.POSITIVE_INFINITY;
    if (!(maxSteps >= 1) || (Number.isFinite(maxSteps) && !Number.isInteger(maxSteps))) {
      throw new RangeError(`maxSteps must be a whole number >= 1, got ${String(options.maxSteps)}`);
    }
    this.maxSteps = maxSteps;
    const checkpoint = options.checkpoint;
    this.checkpointing = checkpoint !== undefined && checkpoint !== false;
    this.onCheckpoint = typeof checkpoint === "function" ? checkpoint : undefined;
    this.from = options.from;
    this.resumeValues = options.resume ?? NO_RESUME;
    if (options.from) this.steps = options.from.step;
  }

  // #region interrupts and checkpoints

  /**
   * A node's `this.interrupt(value)`: the resume value of this call (matched by order within the current
   * top-level step), or throws {@link GraphInterrupt} when there is none yet.
   */
  interrupt(node: string, value: unknown): unknown {
    const index = this.interrupts++;
    if (index < this.resumeValues.length) return this.resumeValues[index];
    throw new GraphInterrupt(value, node, this.resumeValues.slice(0, index));
  }

  /** The top-level orchestration moved on to another node: resume values belonged to the one before. */
  nextTopStep(): void {
    this.resumeValues = NO_RESUME;
    this.interrupts = 0;
  }

  /** Takes a checkpoint before `nextNode` (see {@link RunOptions.checkpoint}); resolves once it is stored. */
  saveCheckpoint(nextNode: string | null, shared: unknown, params: Params): unknown {
    const json = checkpointJson(shared, "shared");
    this.snapshot = { nextNode, step: this.steps, params, shared: json };
    if (this.onCheckpoint === undefined) return undefined;
    return this.onCheckpoint(makeCheckpoint(nextNode, this.steps, json, params));
  }

  /**
   * Fills in where `interrupt` resumes: the latest checkpoint when it is the one before the interrupted step
   * (writes the step made before it stopped are rolled back), else the live store at that step.
   */
  locate(interrupt: GraphInterrupt, nextNode: string | null, step: number, shared: unknown, params: Params): void {
    const snap = this.snapshot;
    interrupt.checkpoint =
      snap !== undefined && snap.nextNode === nextNode && snap.step === step
        ? { next_node: nextNode, step, shared: JSON.parse(snap.shared), params: snap.params, resume: interrupt.checkpoint.resume }
        : { next_node: nextNode, step, shared, params, resume: interrupt.checkpoint.resume };
  }

  // #endregion

  /** The run's id: the `runId` option, or a random UUID. */
  get runId(): string {
    return (this.givenRunId ??= randomUUID());
  }

  /** True while someone listens and the run has not ended: producers skip work when false. */
  get observed(): boolean {
    return this.listener !== undefined && !this.ended;
  }

  /** The run's signal (`this.signal` in nodes). */
  get signal(): AbortSignal {
    return this.abortSource?.signal ?? this.givenSignal ?? NEVER_ABORTED;
  }

  /** Throws if the run was aborted. */
  throwIfAborted(): void {
    const abort = this.abortSource ?? this.givenSignal;
    if (abort?.aborted) throw new AbortError(abort.reason);
  }

  /**
   * Counts one node step; throws on abort or when `maxSteps` would be exceeded. The step guard runs before
   * the node's own step, so it names the node it stopped (not the enclosing graph, whose step would
   * otherwise catch the error first).
   */
  beginStep(nodeId: string): void {
    this.throwIfAborted();
    if (++this.steps > this.maxSteps) {
      this.failedNode ??= nodeId;
      throw new MaxStepsError(this.maxSteps, nodeId);
    }
  }

  /** Emits `start`. */
  start(): void {
    if (this.listener === undefined) return;
    this.push({ type: "start", seq: 0, ts: 0, run_id: this.runId });
  }

  /**
   * Emits `node_start`; returns the monotonic start time for {@link nodeEnd}. `at` is a clock reading the
   * caller already has (the end of the step just before, see {@link lastClock}); without it the clock is read.
   */
  nodeStart(node: string, at = -1): number {
    const now = at >= 0 ? at : performance.now();
    this.push({ type: "node_start", seq: 0, ts: 0, node }, now);
    return now;
  }

  /** Emits `node_end` for a step that started at `started` (from {@link nodeStart}); `retries` only when some were needed. */
  nodeEnd(node: string, action: string, started: number, retries = 0): void {
    const now = performance.now();
    const event: RunEvent = { type: "node_end", seq: 0, ts: 0, node, action, duration_ms: Math.round((now - started) * 1000) / 1000 };
    if (retries > 0) event.retries = retries;
    this.push(event, now);
  }

  /** Emits `data` (from `this.emit(chunk)`). */
  data(node: string, chunk: unknown): void {
    this.push({ type: "data", seq: 0, ts: 0, node, chunk });
  }

  /** Emits the terminal `result`; nothing is emitted after it. */
  finish(result: unknown): void {
    if (this.listener === undefined) return;
    this.push({ type: "result", seq: 0, ts: 0, result });
    this.ended = true;
  }

  /** Emits the terminal `error` (or `interrupt` for a {@link GraphInterrupt}); nothing is emitted after it. */
  fail(error: unknown): void {
    if (this.listener === undefined) return;
    if (GraphInterrupt.is(error)) {
      this.push({ type: "interrupt", seq: 0, ts: 0, node: error.node, value: error.value });
      this.ended = true;
      return;
    }
    const event: RunEvent = { type: "error", seq: 0, ts: 0, error: messageOf(error), error_code: errorCodeOf(error) };
    if (this.failedNode !== undefined) event.node = this.failedNode;
    this.push(event);
    this.ended = true;
  }

  private push(event: RunEvent, at?: number): void {
    if (this.listener === undefined || this.ended) return;
    const now = at ?? performance.now();
    this.lastClock = now;
    event.seq = ++this.seq;
    // One clock read per event: wall time from the monotonic clock and an offset taken at the first event.
    if (Number.isNaN(this.clockOffset)) this.clockOffset = Date.now() - performance.now();
    event.ts = Math.round(this.clockOffset + now);
    try {
      this.listener(event);
    } catch (error) {
      // A failing watcher (a closed socket, say) must not fail the run it watches.
      process.emitWarning(`A run event listener threw: ${messageOf(error)}`, { code: "KG_EVENT_LISTENER" });
    }
  }
}

/** Throws {@link AbortError} with the signal's reason if `signal` has fired (batches check it between items). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason);
}

/** Sleeps `ms`, rejecting with {@link AbortError} as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(new AbortError(signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortError(signal.reason));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
