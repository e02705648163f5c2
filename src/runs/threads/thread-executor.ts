/**
 * Runs graphs in the worker threads of a {@link ThreadPool} (`execution: "thread"`), so the process's main
 * thread keeps serving HTTP, WebSocket, health, metrics and task leases whatever a graph does.
 *
 * Enforcement: a run's timeout fires inside its thread first (the graph's signal, as inline); a run that has
 * not ended `killGraceMs` after its timeout — or after its cancel/abort — is stopped by terminating its thread,
 * which is replaced at once. The run ends TIMEOUT, CANCELLED or ABORTED as it would have. Runs that shared
 * the thread end ABORTED (HTTP 503 UNAVAILABLE: retry; tasks retry by their policy). A thread that runs out
 * of heap ends every run on it RESOURCE_EXHAUSTED; one that exits or crashes (process.exit(), an uncaught
 * error) ends them GRAPH_ERROR. Placement is by least load, so a run shares a thread only when every thread
 * is busy.
 */
import os from "node:os";
import type { LoadedGraph } from "../../definition/registry.js";
import { DefinitionRunError, type RunErrorCode } from "../../definition/run-errors.js";
import type { RunEvent, RunEventListener } from "../../graph/events.js";
import { messageOf } from "../../graph/run-errors.js";
import { checkpointFromText } from "../../graph/checkpoint.js";
import type { RunControl, RunExecutor, RunRequest } from "../executor.js";
import { ThreadPool, type PoolJob, type PoolThread, type ThreadEnd } from "./pool.js";
import type { Checkpoint } from "../../graph/interrupt.js";
import type { CheckpointAnswer, FailureData, FromThread, ReloadOrder, RunOrder, ThreadData } from "./protocol.js";
import { LazyAbort } from "../../graph/lazy-abort.js";
import { threadScript } from "../../thread-script.js";

/** Options of a {@link ThreadExecutor}. */
export interface ThreadExecutorOptions {
  /** Threads: a number, or `auto` (one per CPU, at least 2, at most 8). */
  count: number | "auto";
  maxHeapMb: number;
  killGraceMs: number;
  /** What each thread loads: the graph files of the process and the project root. */
  load: ThreadData;
  /** A thread ended under runs (out of memory, crashed, terminated): for the log. */
  onThreadEnd?(info: { threadId: number; end: ThreadEnd; runs: number }): void;
}

/** The thread's module (from the sources, the unit tests, a small entry registers tsx first). */
const ENTRY = threadScript(import.meta.url, "./thread-entry");

/**
 * The number of run threads for a `threads.count` setting.
 *
 * @example
 * threadCount("auto"); // 2 on a 2-core machine, 8 on a 32-core one
 */
export function threadCount(count: number | "auto"): number {
  return count === "auto" ? Math.min(8, Math.max(2, os.availableParallelism())) : count;
}

/**
 * Run threads started ahead of their project (a `kaygraph dev` standby): they load the TypeScript loader and
 * kaygraph now and the graphs once an executor takes them over (`new ThreadExecutor(options, prestarted)`),
 * so a reload does not wait for threads to boot.
 */
export class PrestartedThreads {
  readonly pool: ThreadPool;
  /** Where thread ends go once an executor took the threads over. */
  onThreadEnd: ThreadExecutorOptions["onThreadEnd"];

  constructor(
    readonly count: number,
    readonly maxHeapMb: number,
  ) {
    this.pool = threadPool(count, maxHeapMb, { files: [], root: "", deferred: true }, (info) => this.onThreadEnd?.(info));
    this.pool.prestart();
  }

  /** Gives the threads their project; resolves once every thread loaded it. */
  load(load: ThreadData): Promise<void> {
    // Prestarted threads copied the environment before the project's .env was applied: they get today's.
    return this.pool.provide({ ...load, env: { ...process.env } });
  }
}

/** See the module comment. */
export class ThreadExecutor implements RunExecutor {
  readonly kind = "thread";
  readonly pool: ThreadPool;
  private nextJob = 0;
  /** The graph files the threads load (an in-place reload may change them). */
  private files: readonly string[];
  /** The generation runs are ordered under (see {@link reload}). */
  private generation: number;

  constructor(
    private readonly options: ThreadExecutorOptions,
    private readonly prestarted?: PrestartedThreads,
  ) {
    this.files = options.load.files;
    this.generation = options.load.generation ?? 0;
    if (prestarted !== undefined) prestarted.onThreadEnd = options.onThreadEnd;
    this.pool = prestarted?.pool ?? threadPool(threadCount(options.count), options.maxHeapMb, options.load, (info) => options.onThreadEnd?.(info));
  }

  /** Starts every thread; resolves once each has loaded the graphs (warm before the server says ready). */
  start(): Promise<void> {
    return this.prestarted ? this.prestarted.load(this.options.load) : this.pool.start();
  }

  /** Threads load graph files: a graph built in code (no such file) runs inline. */
  hosts(graph: LoadedGraph): boolean {
    return this.files.includes(graph.file);
  }

  /**
   * An in-place reload: every thread loads `files` under `generation` beside what it has (runs under way and
   * runs of graphs of the previous generation keep theirs); resolves once all did, rejects with the first
   * thread's load error. Threads started from now on (replacements) load the new generation.
   */
  async reload(files: string[], generation: number): Promise<void> {
    const data: ThreadData = { ...(this.pool.data as ThreadData), files, root: this.options.load.root, generation, deferred: false };
    const order: Omit<ReloadOrder, "control"> = { type: "reload", data, serving: this.generation };
    await this.pool.broadcast(order, data);
    this.files = files;
    this.generation = generation;
  }

  execute(graph: LoadedGraph, request: RunRequest, control: RunControl): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const job = new ThreadRunJob(++this.nextJob, request, control, this.options, resolve, reject);
      job.start(this.pool, graph);
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

function threadPool(size: number, maxHeapMb: number, load: ThreadData, onThreadEnd: ThreadExecutorOptions["onThreadEnd"]): ThreadPool {
  return new ThreadPool({
    size,
    script: ENTRY,
    workerData: load,
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb },
    onThreadEnd: (threadId, end, runs) => onThreadEnd?.({ threadId, end, runs }),
  });
}

/** The main thread's side of one run in a thread. */
class ThreadRunJob implements PoolJob {
  private thread: PoolThread | undefined;
  private pool: ThreadPool | undefined;
  private graph: LoadedGraph | undefined;
  private lastSeq = 0;
  private settled = false;
  private deadline: NodeJS.Timeout | undefined;
  private grace: NodeJS.Timeout | undefined;
  /** What aborts the run: the caller's LazyAbort (heard without making a signal), or its signal. */
  private readonly abortedBy: LazyAbort | AbortSignal | undefined;
  private stopListening: (() => void) | undefined;
  private readonly onEvent: RunEventListener | undefined;
  private readonly eventTypes: ReadonlySet<string> | undefined;
  private readonly onCheckpoint: ((checkpoint: Checkpoint) => unknown) | undefined;
  private readonly startCheckpointHeld: boolean;

  constructor(
    readonly id: number,
    private readonly request: RunRequest,
    control: RunControl,
    private readonly options: ThreadExecutorOptions,
    private readonly resolve: (output: unknown) => void,
    private readonly reject: (error: DefinitionRunError) => void,
  ) {
    this.abortedBy = control.controller instanceof LazyAbort ? control.controller : (control.controller?.signal ?? control.signal);
    this.onEvent = control.onEvent;
    this.eventTypes = control.eventTypes;
    this.onCheckpoint = control.onCheckpoint;
    this.startCheckpointHeld = control.startCheckpointHeld === true && request.from === undefined;
  }

  start(pool: ThreadPool, graph: LoadedGraph): void {
    this.pool = pool;
    this.graph = graph;
    if (!this.dispatch()) return;
    const { timeoutMs } = this.request;
    if (timeoutMs !== undefined) {
      // The thread's own timer fires first; this one only acts on a thread that cannot (it never yields).
      this.deadline = setTimeout(() => this.kill("TIMEOUT", `The run exceeded its timeout of ${timeoutMs} ms and did not stop; its thread was terminated.`), timeoutMs + this.options.killGraceMs);
    }
    const by = this.abortedBy;
    if (by?.aborted) this.onAbort();
    else if (by instanceof LazyAbort) this.stopListening = by.listen(this.onAbort);
    else if (by !== undefined) {
      by.addEventListener("abort", this.onAbort, { once: true });
      this.stopListening = () => by.removeEventListener("abort", this.onAbort);
    }
  }

  /** Places the run on a thread and sends its order; false (the run failed) when there is no thread to take it. */
  private dispatch(): boolean {
    const pool = this.pool as ThreadPool;
    const graph = this.graph as LoadedGraph;
    try {
      this.thread = pool.place(this);
    } catch (error) {
      if (pool.closed) {
        this.fail("ABORTED", "The server is shutting down; try again.", undefined, true);
        return false;
      }
      this.fail("GRAPH_ERROR", `The run could not be handed to a run thread: ${messageOf(error)}`, error);
      return false;
    }
    const order: RunOrder = { type: "run", job: this.id, graph: graph.name, version: graph.version, request: this.request, checkpoints: this.onCheckpoint !== undefined };
    if (this.eventTypes !== undefined) order.events = [...this.eventTypes];
    if (graph.generation !== undefined) order.generation = graph.generation;
    if (this.startCheckpointHeld && order.checkpoints) order.startHeld = true;
    this.thread.dispatch(this, order);
    return true;
  }

  onUnsent(error: unknown): void {
    this.fail("GRAPH_ERROR", `The run could not be handed to a run thread: ${messageOf(error)} (use execution: "inline" for a graph whose input cannot be cloned).`, error);
  }

  onMessage(message: unknown): void {
    if (this.settled) return;
    const report = message as FromThread;
    for (const event of report.events) this.forward(event);
    if (report.type === "checkpoint") {
      this.storeCheckpoint(report.seq, checkpointFromText(report.checkpoint, report.head), report.unwaited === true);
      return;
    }
    if (report.type !== "end") return;
    this.settle();
    if (report.ok) this.resolve(report.output);
    else this.reject(toRunError(report.failure));
  }

  onThreadEnd(end: ThreadEnd, received: boolean): void {
    if (this.settled) return;
    // Queued behind a blocked (or dying) thread and never taken in: nothing of it ran; run it elsewhere.
    if (!received && !(end.kind === "terminated" && end.job === this.id)) {
      if (this.dispatch() && this.abortedBy?.aborted) this.onAbort();
      return;
    }
    if (end.kind === "out-of-memory") {
      this.fail("RESOURCE_EXHAUSTED", `The run's thread ran out of memory (its heap limit is ${this.options.maxHeapMb} MB, threads.maxHeapMb); the thread was replaced.`);
    } else if (end.kind === "crashed") {
      this.fail("GRAPH_ERROR", `The run's thread ended: ${end.message}; the thread was replaced.`);
    } else {
      // A neighbour was terminated (or the pool closed): this run did nothing wrong; it may be tried again.
      this.fail("ABORTED", `The run was stopped because its thread was terminated (${end.reason}); try again.`, undefined, true);
    }
  }

  /**
   * Stores a checkpoint through the caller, then lets the thread's run go on (or fail with the store's error).
   * `unwaited`: the run went on already (a held start checkpoint); it hears only of a failure.
   */
  private storeCheckpoint(seq: number, checkpoint: Checkpoint, unwaited: boolean): void {
    Promise.resolve()
      .then(() => this.onCheckpoint?.(checkpoint))
      .then(
        () => {
          if (!unwaited) this.answer({ type: "checkpoint-done", job: this.id, seq });
        },
        (error: unknown) => {
          const code = (error as { code?: unknown } | null)?.code;
          this.answer({ type: "checkpoint-done", job: this.id, seq, error: { message: messageOf(error), ...(typeof code === "string" && { code }) } });
        },
      );
  }

  private answer(message: CheckpointAnswer): void {
    if (!this.settled) this.thread?.post(message);
  }

  /** The caller aborted (cancel, client gone, drain deadline): ask the thread, terminate it after the grace. */
  private readonly onAbort = (): void => {
    if (this.settled || this.thread === undefined) return;
    const reason = this.abortedBy?.reason as { code?: unknown; message?: unknown } | undefined;
    const code = typeof reason?.code === "string" ? reason.code : undefined;
    const message = typeof reason?.message === "string" && reason.message ? reason.message : "The run was aborted.";
    this.thread.post({ type: "abort", job: this.id, ...(code !== undefined && { code }), message });
    clearTimeout(this.grace);
    const ending: RunErrorCode = code === "CANCELLED" ? "CANCELLED" : code === "TIMEOUT" ? "TIMEOUT" : "ABORTED";
    this.grace = setTimeout(() => this.kill(ending, `${message.replace(/\.$/, "")}; the run did not stop within ${this.options.killGraceMs} ms, so its thread was terminated.`), this.options.killGraceMs);
  };

  /** Ends the run now with `code` and terminates its thread (replaced by the pool). */
  private kill(code: RunErrorCode, message: string): void {
    if (this.settled) return;
    const thread = this.thread;
    this.fail(code, message);
    thread?.terminate(`run ${this.request.runId} did not stop after its ${code === "TIMEOUT" ? "timeout" : "abort"}`, this.id);
  }

  private fail(code: RunErrorCode, message: string, cause?: unknown, rerunnable = false): void {
    if (this.settled) return;
    this.settle();
    // The caller still gets one terminal event, after a `start` if none went out.
    if (this.lastSeq === 0) this.forward({ type: "start", seq: 1, ts: Date.now(), run_id: this.request.runId });
    this.forward({ type: "error", seq: this.lastSeq + 1, ts: Date.now(), error: message, error_code: code });
    this.reject(new DefinitionRunError(code, message, { ...(cause !== undefined && { cause }), rerunnable }));
  }

  private forward(event: RunEvent): void {
    this.lastSeq = event.seq;
    try {
      this.onEvent?.(event);
    } catch (error) {
      // As inline (run-context.ts): a listener that throws fails nothing — here it would take the process down,
      // since this runs in the thread's message handler.
      process.emitWarning(`A run event listener threw: ${messageOf(error)}`, { code: "KG_EVENT_LISTENER" });
    }
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.deadline);
    clearTimeout(this.grace);
    this.stopListening?.();
    if (this.thread && this.pool) this.pool.release(this.thread, this);
  }
}

function toRunError(failure: FailureData): DefinitionRunError {
  let cause: Error | undefined;
  if (failure.cause) {
    cause = new Error(failure.cause.message);
    cause.name = failure.cause.name;
    if (failure.cause.stack !== undefined) cause.stack = failure.cause.stack;
    if (failure.cause.code !== undefined) (cause as Error & { code?: string }).code = failure.cause.code;
  }
  return new DefinitionRunError(failure.code as RunErrorCode, failure.message, { node: failure.node, details: failure.details, cause, interrupt: failure.interrupt });
}
