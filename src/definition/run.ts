import { randomUUID } from "node:crypto";
import { checkpointJson } from "../graph/checkpoint.js";
import type { RunEvent, RunEventListener } from "../graph/events.js";
import { GraphInterrupt, type Checkpoint } from "../graph/interrupt.js";
import { LazyAbort } from "../graph/lazy-abort.js";
import { Node } from "../graph/node.js";
import type { AbortSource } from "../graph/run-context.js";
import type { Identity, RunContextInfo, Runnable } from "./define.js";
import type { LoadedGraph } from "./registry.js";
import { DefinitionRunError, formatIssues, type RunInterrupt } from "./run-errors.js";

/** Options of {@link runDefinition}. */
export interface RunDefinitionOptions {
  /** Aborts the run (client gone, cancel, Ctrl-C). A reason with `code: "CANCELLED"` reports CANCELLED. */
  signal?: AbortSignal;
  /**
   * Instead of `signal`: a controller the caller owns and aborts; the run uses its signal and aborts it on
   * timeout itself (one controller per run instead of two on hot paths).
   */
  controller?: AbortController;
  /** Receives the run's events; the terminal `result` carries the validated output. */
  onEvent?: RunEventListener;
  /** Request id: in logs, events (`start.run_id` unless `runId` is given) and `ctx.requestId`. */
  requestId?: string;
  runId?: string;
  user?: Identity;
  taskId?: string;
  /** Timeout in ms (the caller resolves definition vs config defaults); none when left out. */
  timeoutMs?: number;
  /** The input was already parsed by the definition's input schema (it is not parsed again). */
  inputValidated?: boolean;
  /** Resume from this checkpoint: its `shared` is used instead of the definition's `shared` mapping. */
  from?: Checkpoint;
  /** Resume values for the checkpoint's node (each checked by the definition's `resume` schema). */
  resume?: readonly unknown[];
  /**
   * Stores each checkpoint (background tasks); the next node waits for it. Not called when the definition
   * says `checkpoint: false`.
   */
  onCheckpoint?: (checkpoint: Checkpoint) => unknown;
}

/** The signal of a definition run, for cancel/abort reasons. */
export class CancelledReason extends Error {
  readonly code = "CANCELLED";
  constructor(message = "The run was cancelled") {
    super(message);
    this.name = "CancelledReason";
  }
}

/**
 * Runs a graph definition once: validates the input, builds the shared store, runs the graph with the
 * signal and timeout, reads and validates the output. Resolves to the output; rejects with a
 * {@link DefinitionRunError} whose `code` every transport reports. Events: the graph's own, then exactly
 * one terminal event of this runner (so `result` carries the validated output).
 *
 * @example
 * const output = await runDefinition(registry.get("hello"), { name: "Ada" }, { timeoutMs: 5000 });
 */
export async function runDefinition(graph: LoadedGraph, rawInput: unknown, options: RunDefinitionOptions = {}): Promise<unknown> {
  const def = graph.definition;
  const input = options.inputValidated ? rawInput : validateInput(graph, rawInput);
  const requestId = options.requestId ?? randomUUID();
  const abort = new RunAbort(options.signal, options.timeoutMs, options.controller);
  const events = new EventRelay(options.onEvent, options.runId ?? requestId);
  const ctx = new RunInfo(requestId, graph, abort, options.user, options.taskId);

  try {
    const resume = options.resume === undefined ? undefined : parseResume(graph, options.resume);
    const runnable = await instantiate(def.graph);
    const shared = options.from ? options.from.shared : def.shared ? await def.shared(input, ctx) : { input };
    const checkpoint = def.checkpoint === false ? undefined : (options.onCheckpoint ?? (def.resume ? true : undefined));
    // This package's nodes take the abort itself; a runnable from another copy of kaygraph takes a signal.
    const lazy = runnable instanceof Node ? abort.lazy : undefined;
    await runnable.run(shared, { abort: lazy, signal: lazy ? undefined : abort.signal, onEvent: events.listener, maxSteps: def.maxSteps, runId: events.runId, context: ctx, checkpoint, from: options.from, resume });
    const raw = def.result ? await def.result(shared) : (shared as { output?: unknown }).output;
    const output = def.output.safeParse(raw);
    if (!output.success) {
      throw new DefinitionRunError("GRAPH_ERROR", `The graph's output does not match its output schema:\n${formatIssues(output.error.issues)}`, { details: output.error.issues });
    }
    events.finish(output.data);
    return output.data;
  } catch (error) {
    if (GraphInterrupt.is(error) && !(abort.timedOut || abort.aborted)) {
      const stop = interruptOf(error);
      if (stop instanceof DefinitionRunError) {
        events.fail(stop);
        throw stop;
      }
      events.interrupt(stop, options.taskId);
      throw new DefinitionRunError("INTERRUPTED", `The run was interrupted by node "${stop.node}" and waits for a resume value.`, { node: stop.node, interrupt: stop });
    }
    const failure = classify(error, { timedOut: abort.timedOut, caller: options.controller instanceof LazyAbort ? options.controller : (options.controller?.signal ?? options.signal), timeoutMs: options.timeoutMs, node: events.failedNode });
    events.fail(failure);
    throw failure;
  } finally {
    abort.dispose();
  }
}

/**
 * The input parsed by the definition's input schema (defaults applied), or a VALIDATION_ERROR naming each
 * problem: the one input check of every transport.
 *
 * @example
 * const input = validateInput(registry.get("hello"), req.body); // throws DefinitionRunError (VALIDATION_ERROR)
 */
export function validateInput(graph: LoadedGraph, rawInput: unknown): unknown {
  const parsed = graph.definition.input.safeParse(rawInput);
  if (parsed.success) return parsed.data;
  throw new DefinitionRunError("VALIDATION_ERROR", `Invalid input for ${graph.name} v${graph.version}:\n${formatIssues(parsed.error.issues)}`, { details: parsed.error.issues });
}

/**
 * What graph code sees of its run (`this.context`, the definition's `shared(input, ctx)`). `user` and `taskId`
 * are own properties only when set; `signal` is a getter of the class (made on first read), so a spread copy
 * of the context has no `signal`: read it from the context itself (or `this.signal` in a node).
 */
class RunInfo implements RunContextInfo {
  readonly graph: string;
  readonly version: number;
  declare readonly user?: Identity;
  declare readonly taskId?: string;
  readonly #abort: RunAbort;

  constructor(
    readonly requestId: string,
    graph: LoadedGraph,
    abort: RunAbort,
    user: Identity | undefined,
    taskId: string | undefined,
  ) {
    this.graph = graph.name;
    this.version = graph.version;
    this.#abort = abort;
    if (user) (this as { user?: Identity }).user = user;
    if (taskId) (this as { taskId?: string }).taskId = taskId;
  }

  /** Made when first read (graph code that watches it): most runs never do. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }
}

/**
 * One AbortController per run, fired by the caller's signal or the timeout. (AbortSignal.any and
 * AbortSignal.timeout cost far more per request, and their listeners linger until collected.)
 */
class RunAbort {
  private readonly controller: AbortController;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort: (() => void) | undefined;
  timedOut = false;

  constructor(
    private readonly caller: AbortSignal | undefined,
    timeoutMs: number | undefined,
    owned?: AbortController,
  ) {
    this.controller = owned ?? new AbortController();
    if (owned) {
      // The caller's controller is the run's: nothing to forward.
    } else if (caller?.aborted) this.controller.abort(caller.reason);
    else if (caller) {
      this.onCallerAbort = () => this.controller.abort(caller.reason);
      caller.addEventListener("abort", this.onCallerAbort, { once: true });
    }
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new DOMException(`The run exceeded its timeout of ${timeoutMs} ms.`, "TimeoutError"));
      }, timeoutMs);
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The caller's {@link LazyAbort}, when it gave one: the runtime reads it without making its signal. */
  get lazy(): AbortSource | undefined {
    return this.controller instanceof LazyAbort ? this.controller : undefined;
  }

  /** Whether the run was aborted (without making a lazy controller's signal). */
  get aborted(): boolean {
    return (this.lazy ?? this.controller.signal).aborted;
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onCallerAbort !== undefined) this.caller?.removeEventListener("abort", this.onCallerAbort);
  }
}

/** Resume values checked (and transformed) by the definition's `resume` schema. */
function parseResume(graph: LoadedGraph, values: readonly unknown[]): unknown[] {
  const schema = graph.definition.resume;
  if (schema === undefined) return [...values];
  return values.map((value, i) => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const which = values.length > 1 ? ` (resume value ${i + 1})` : "";
    throw new DefinitionRunError("VALIDATION_ERROR", `Invalid resume value for ${graph.name} v${graph.version}${which}:\n${formatIssues(parsed.error.issues)}`, { details: parsed.error.issues });
  });
}

/**
 * The interrupt as plain JSON (it is stored, and crosses threads and processes), or CHECKPOINT_FAILED naming
 * the first key of the value or the store that does not round-trip.
 */
function interruptOf(error: GraphInterrupt): RunInterrupt | DefinitionRunError {
  try {
    const value = JSON.parse(checkpointJson(error.value, "interrupt value")) as unknown;
    const cp = error.checkpoint;
    const shared = JSON.parse(checkpointJson(cp.shared, "shared")) as unknown;
    return { node: error.node, value, checkpoint: { next_node: cp.next_node, step: cp.step, shared, params: { ...cp.params }, resume: JSON.parse(checkpointJson(cp.resume, "resume")) as unknown[] } };
  } catch (failure) {
    return new DefinitionRunError("CHECKPOINT_FAILED", (failure as Error).message, { node: error.node, cause: failure });
  }
}

/** Whether each `graph` factory is a class (its source is read once, not on every run). */
const factoryIsClass = new WeakMap<object, boolean>();

async function instantiate(graph: Runnable | (() => Runnable | Promise<Runnable>)): Promise<Runnable> {
  if (typeof graph !== "function") return graph;
  // A class passed by mistake (`graph: MyGraph`) is constructed rather than called.
  let isClass = factoryIsClass.get(graph);
  if (isClass === undefined) factoryIsClass.set(graph, (isClass = /^class[\s{]/.test(Function.prototype.toString.call(graph))));
  return isClass ? new (graph as unknown as new () => Runnable)() : await graph();
}

function classify(error: unknown, at: { timedOut: boolean; caller?: { readonly aborted: boolean; readonly reason: unknown }; timeoutMs?: number; node?: string }): DefinitionRunError {
  if (error instanceof DefinitionRunError) return error;
  const node = at.node;
  if (at.timedOut) return new DefinitionRunError("TIMEOUT", `The run exceeded its timeout of ${at.timeoutMs} ms.`, { node, cause: error });
  if (at.caller?.aborted) {
    const reason = at.caller.reason as { code?: unknown; message?: unknown } | undefined;
    if (reason?.code === "CANCELLED") return new DefinitionRunError("CANCELLED", String(reason.message ?? "The run was cancelled."), { node, cause: error });
    const why = reason instanceof Error && reason.message ? `: ${reason.message}` : "";
    return new DefinitionRunError("ABORTED", `The run was aborted${why}.`, { node, cause: error });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "CHECKPOINT_FAILED") return new DefinitionRunError("CHECKPOINT_FAILED", (error as Error).message, { node, cause: error });
  if (code === "MAX_STEPS") return new DefinitionRunError("MAX_STEPS", (error as Error).message, { node, cause: error });
  const message = error instanceof Error ? error.message || error.name : String(error);
  return new DefinitionRunError("GRAPH_ERROR", message, { node, cause: error });
}

/**
 * Forwards the graph's events and replaces its terminal event with the runner's own: the runner knows the
 * validated output (or the classified error), the graph does not. Nothing is forwarded after the terminal.
 */
class EventRelay {
  failedNode: string | undefined;
  readonly listener: RunEventListener | undefined;
  private lastSeq = 0;
  private closed = false;

  constructor(
    private readonly onEvent: RunEventListener | undefined,
    readonly runId: string,
  ) {
    this.listener = onEvent === undefined ? undefined : (event) => this.forward(event);
  }

  finish(result: unknown): void {
    this.terminal({ type: "result", seq: 0, ts: 0, result });
  }

  interrupt(stop: RunInterrupt, taskId: string | undefined): void {
    this.terminal({ type: "interrupt", seq: 0, ts: 0, node: stop.node, value: stop.value, ...(taskId !== undefined && { task_id: taskId }) });
  }

  fail(error: DefinitionRunError): void {
    const event: RunEvent = { type: "error", seq: 0, ts: 0, error: error.message, error_code: error.code };
    if (error.node !== undefined) event.node = error.node;
    this.terminal(event);
  }

  private forward(event: RunEvent): void {
    if (this.closed) return;
    if (event.type === "error") {
      this.failedNode = event.node;
      return;
    }
    if (event.type === "result" || event.type === "interrupt") return;
    this.lastSeq = event.seq;
    this.onEvent?.(event);
  }

  private terminal(event: RunEvent): void {
    if (this.closed || this.onEvent === undefined) return;
    // A failure before the graph started (factory or `shared` threw) still gets a `start` first.
    if (this.lastSeq === 0) this.onEvent({ type: "start", seq: ++this.lastSeq, ts: Date.now(), run_id: this.runId });
    event.seq = ++this.lastSeq;
    event.ts = Date.now();
    this.closed = true;
    this.onEvent(event);
  }
}
