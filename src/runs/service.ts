/**
 * The run service: the one way any transport (HTTP sync, SSE, WebSocket, background tasks, `kaygraph run`)
 * runs a graph. It owns finding the graph, validating the input, picking the execution (a worker thread or
 * inline), timeouts, observing (metrics, and whatever else is registered), logging failures, the events
 * a caller may see, and mapping failures to public codes (see public.ts). Transports only translate.
 *
 * Hooks, for features built on it:
 * - **Observers** ({@link RunObserver}): `begin(run)` is called once per validated run and returns a watch
 *   that sees every raw event (`onEvent`) and the outcome (`end`). Metrics are one; tracing adds another
 *   (a span per run from begin to end, a span per node from `node_start`/`node_end`).
 * - **Events** flow through {@link RunService.start} only: the executor's events reach observers first,
 *   then the caller's `onEvent` (as the caller may see them: GRAPH_ERROR messages hidden outside debug for
 *   HTTP, SSE and WebSocket callers; raw for tasks and the CLI, which keep them for operators).
 *   Streaming transports take events as JSON text (`onEventJson`): the listener serialises each one once,
 *   and an event JSON cannot carry ends the run INTERNAL_ERROR, never silently (see event-json.ts).
 * - **Requests** ({@link RunRequest}) are plain data and reach a worker thread as they are: new per-run
 *   inputs (a resume value, a checkpoint to start from) are fields there, read by `runDefinition` in the
 *   thread (thread-entry.ts) exactly as inline.
 *
 * @example
 * const runs = createRunService({ config, registry, observers: [meterObserver(metrics)] });
 * const output = await runs.start(runs.get("hello"), { name: "Ada" }, { transport: "sync", requestId });
 */
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { Identity } from "../definition/define.js";
import type { GraphRegistry, LoadedGraph } from "../definition/registry.js";
import { validateInput } from "../definition/run.js";
import { DefinitionRunError } from "../definition/run-errors.js";
import type { RunEvent } from "../graph/events.js";
import type { Checkpoint } from "../graph/interrupt.js";
import { messageOf } from "../graph/run-errors.js";
import { JsonEventGate, type JsonEventListener } from "./event-json.js";
import { InlineExecutor, type RunControl, type RunExecutor, type RunRequest } from "./executor.js";
import { publicEvent } from "./public.js";

/** Who asked for a run. */
export type RunTransport = "sync" | "stream" | "ws" | "task" | "cli";

/** Where runs execute: a worker thread of the pool (default) or the calling thread. */
export type Execution = "thread" | "inline";

/** Options of {@link RunService.start}. */
export interface StartRunOptions extends RunControl {
  transport: RunTransport;
  requestId: string;
  /** `start.run_id`; default the request id. */
  runId?: string;
  user?: Identity;
  taskId?: string;
  /**
   * The run's timeout in ms. Left out: the definition's `timeoutMs`, else `server.requestTimeoutMs` (tasks:
   * none, their runner enforces `taskTimeoutMs` through the signal). `null`: none.
   */
  timeoutMs?: number | null;
  /** The input already went through {@link RunService.check}. */
  validated?: boolean;
  /** Start from this checkpoint (a resumed or recovered task). */
  from?: Checkpoint;
  /** Resume values for the checkpoint's node, by order. */
  resume?: readonly unknown[];
  /**
   * Instead of `onEvent`, for transports that write JSON (SSE, WebSocket): each event with its JSON text,
   * serialised once. An event that has no JSON form is replaced by a terminal `error` event INTERNAL_ERROR
   * under its seq, the run is aborted, and `start` rejects INTERNAL_ERROR.
   */
  onEventJson?: JsonEventListener;
}

/** One run, as observers see it. */
export interface RunInfo {
  readonly graph: LoadedGraph;
  readonly transport: RunTransport;
  readonly requestId: string;
  readonly runId: string;
  readonly taskId: string | undefined;
  readonly execution: Execution;
}

/** Watches runs: metrics, tracing. */
export interface RunObserver {
  /** A validated run begins; returns what watches it (or nothing). */
  begin(run: RunInfo): RunWatch | undefined;
}

/** What watches one run. */
export interface RunWatch {
  /** Every event of the run as produced (messages not hidden), in order. */
  onEvent?(event: RunEvent): void;
  /** The event types `onEvent` reads, when it reads only some (a run in a thread then sends no others). */
  readonly events?: ReadonlySet<string>;
  /** The run ended: `completed`, or the lower-case error code (`graph_error`, `timeout`…). */
  end(outcome: string, error?: DefinitionRunError): void;
}

/** Options of {@link createRunService}. */
export interface RunServiceOptions {
  config: Pick<ResolvedConfig, "server" | "execution">;
  registry: GraphRegistry;
  /** Show GRAPH_ERROR messages to callers (dev, --debug). */
  debug?: boolean;
  observers?: readonly RunObserver[];
  /** Failures of runs no HTTP error handler logs (SSE, WebSocket, tasks) are logged here. */
  logger?: Logger;
  /** The thread pool's executor; without it every run is inline. */
  threads?: RunExecutor;
}

/** Transports whose callers see events as the public API shows them; tasks and the CLI keep them raw. */
const PUBLIC_TRANSPORTS = new Set<RunTransport>(["sync", "stream", "ws"]);

/**
 * The run service (see the module comment).
 */
export class RunService {
  readonly registry: GraphRegistry;
  readonly debug: boolean;
  private readonly inline = new InlineExecutor();
  private readonly observers: readonly RunObserver[];

  constructor(private readonly options: RunServiceOptions) {
    this.registry = options.registry;
    this.debug = options.debug ?? false;
    this.observers = options.observers ?? [];
  }

  /** The thread pool's executor, if runs go to threads. */
  get threads(): RunExecutor | undefined {
    return this.options.threads;
  }

  /**
   * The same service (observers, threads) for another registry: an in-place reload's. Runs started on this
   * one go on; closing either closes the shared threads.
   */
  withRegistry(registry: GraphRegistry): RunService {
    return new RunService({ ...this.options, registry });
  }

  /** The graph `name` at `version` (the highest when left out). */
  find(name: string, version?: number): LoadedGraph | undefined {
    return this.registry.find(name, version);
  }

  /** Validates `input` against the graph's input schema: the parsed input, or a VALIDATION_ERROR. */
  check(graph: LoadedGraph, input: unknown): unknown {
    return validateInput(graph, input);
  }

  /**
   * Where runs of `graph` execute: its definition's `execution`, else the setting. Inline without a pool, and
   * for a graph the threads cannot load (one built in code rather than loaded from a file).
   */
  executionOf(graph: LoadedGraph): Execution {
    const threads = this.options.threads;
    if (threads === undefined || (graph.definition.execution ?? this.options.config.execution) === "inline") return "inline";
    return threads.hosts?.(graph) === false ? "inline" : "thread";
  }

  /**
   * Runs `graph` once: validates (unless `validated`), observes, executes, and resolves to the validated
   * output or rejects with a {@link DefinitionRunError} (map it with `publicRunError`). The caller's
   * `onEvent` gets exactly one terminal event last, failures included.
   */
  async start(graph: LoadedGraph, input: unknown, options: StartRunOptions): Promise<unknown> {
    const parsed = options.validated ? input : this.check(graph, input);
    const execution = this.executionOf(graph);
    const runId = options.runId ?? options.requestId;
    const info: RunInfo = { graph, transport: options.transport, requestId: options.requestId, runId, taskId: options.taskId, execution };
    const watches = this.begin(info);
    const request: RunRequest = { input: parsed, requestId: options.requestId, runId, ...(options.user && { user: options.user }), ...(options.taskId && { taskId: options.taskId }) };
    const timeoutMs = this.timeoutOf(graph, options);
    if (timeoutMs !== undefined) request.timeoutMs = timeoutMs;
    if (options.from !== undefined) request.from = options.from;
    if (options.resume !== undefined) request.resume = options.resume;
    const executor = execution === "thread" ? (this.options.threads as RunExecutor) : this.inline;
    // A gate holds the run's controller (the caller's, else its own) so an unserialisable event can stop the run.
    const gate = options.onEventJson && new JsonEventGate(options.onEventJson, options, this.debug);
    const abort = gate ? { controller: gate.controller } : { signal: options.signal, controller: options.controller };
    const control: RunControl = { ...abort, onEvent: this.listener(watches, options, gate), onCheckpoint: options.onCheckpoint };
    if (options.startCheckpointHeld === true && options.from === undefined) control.startCheckpointHeld = true;
    const eventTypes = gate || options.onEvent ? undefined : wantedEvents(watches);
    if (eventTypes !== undefined) control.eventTypes = eventTypes;
    try {
      const output = await executor.execute(graph, request, control);
      if (gate?.failure) throw gate.failure;
      for (const watch of watches) watch.end("completed");
      return output;
    } catch (error) {
      const failure = gate?.failure ?? (error instanceof DefinitionRunError ? error : new DefinitionRunError("GRAPH_ERROR", messageOf(error), { cause: error }));
      const outcome = failure.code.toLowerCase();
      for (const watch of watches) watch.end(outcome, failure);
      this.logFailure(info, failure);
      throw failure;
    } finally {
      gate?.dispose();
    }
  }

  /** Stops the thread pool (runs still going there fail). */
  async close(): Promise<void> {
    await this.options.threads?.close();
  }

  private begin(info: RunInfo): RunWatch[] {
    const watches: RunWatch[] = [];
    for (const observer of this.observers) {
      const watch = observer.begin(info);
      if (watch) watches.push(watch);
    }
    return watches;
  }

  private timeoutOf(graph: LoadedGraph, options: StartRunOptions): number | undefined {
    if (options.timeoutMs === null) return undefined;
    if (options.timeoutMs !== undefined) return options.timeoutMs;
    if (options.transport === "task") return undefined;
    return graph.definition.timeoutMs ?? this.options.config.server.requestTimeoutMs;
  }

  /** The one listener of a run's events: observers first, then the caller (through the gate, as JSON). */
  private listener(watches: readonly RunWatch[], options: StartRunOptions, gate: JsonEventGate | undefined): ((event: RunEvent) => void) | undefined {
    const onEvent = gate ? (event: RunEvent) => gate.write(event) : options.onEvent;
    const watching = watches.filter((w) => w.onEvent !== undefined);
    if (onEvent === undefined && watching.length === 0) return undefined;
    const hide = PUBLIC_TRANSPORTS.has(options.transport) && !this.debug;
    if (watching.length === 1 && onEvent === undefined) return (event) => watching[0]?.onEvent?.(event);
    return (event) => {
      for (const watch of watching) watch.onEvent?.(event);
      onEvent?.(hide ? publicEvent(event, false) : event);
    };
  }

  private logFailure(info: RunInfo, failure: DefinitionRunError): void {
    const logger = this.options.logger;
    // Sync runs are logged once by the HTTP error handler; the CLI prints its own. An interrupt is no failure.
    if (failure.code === "INTERRUPTED") return;
    if (logger === undefined || info.transport === "sync" || info.transport === "cli") return;
    // An INTERNAL_ERROR's own message says what could not be serialised and why; other causes say more.
    const fields = { err: failure.code === "INTERNAL_ERROR" ? failure : (failure.cause ?? failure), request_id: info.requestId, graph: info.graph.name, version: info.graph.version, transport: info.transport, error_code: failure.code, ...(info.taskId && { task_id: info.taskId }) };
    const logged = failure.code === "GRAPH_ERROR" || failure.code === "RESOURCE_EXHAUSTED" || failure.code === "INTERNAL_ERROR";
    if (info.transport === "task") {
      if (logged) logger.warn(fields, "task attempt failed");
    } else if (logged) {
      logger.error(fields, info.transport === "ws" ? "websocket run failed" : "streamed run failed");
    }
  }
}

const NO_EVENTS: ReadonlySet<string> = new Set();

/** The event types the watches read when the caller reads none: their union, or undefined when one reads all. */
function wantedEvents(watches: readonly RunWatch[]): ReadonlySet<string> | undefined {
  const reading = watches.filter((w) => w.onEvent !== undefined);
  if (reading.length === 0) return NO_EVENTS;
  if (reading.length === 1) return reading[0]?.events;
  if (reading.some((w) => w.events === undefined)) return undefined;
  return new Set(reading.flatMap((w) => [...(w.events ?? [])]));
}

/**
 * Creates the {@link RunService} of a server or worker.
 *
 * @example
 * const runs = createRunService({ config, registry, logger, observers: [meterObserver(metrics)] });
 */
export function createRunService(options: RunServiceOptions): RunService {
  return new RunService(options);
}
