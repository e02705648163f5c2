/**
 * A run thread: loads the project's graph definitions itself (the same files through the same loader as its
 * process; module singletons are per thread), then runs what its main thread orders, one `runDefinition`
 * per order, several at once when they await. Events go back batched per tick (one message per tick per
 * run, and the last batch rides with the end report); aborts come in as messages.
 */
import { traceReload } from "../../reload-trace.js";
import { register } from "node:module";
import { parentPort, workerData } from "node:worker_threads";
import { describeLoadError, registerTypeScript } from "../../config/import-module.js";
import { loadGraphFiles } from "../../definition/load.js";
import type { GraphRegistry } from "../../definition/registry.js";
import { CancelledReason, runDefinition } from "../../definition/run.js";
import { LazyAbort } from "../../graph/lazy-abort.js";
import { DefinitionRunError } from "../../definition/run-errors.js";
import type { RunEvent } from "../../graph/events.js";
import { messageOf } from "../../graph/run-errors.js";
import { checkpointHead, checkpointText } from "../../graph/checkpoint.js";
import { unbatch, type PoolBatch, type PoolWorkerData } from "./pool.js";
import type { ResolveHookData } from "./resolve-hook.js";
import type { Checkpoint } from "../../graph/interrupt.js";
import type { CheckpointAnswer, ControlReply, EndReport, FailureData, FromThread, ReloadOrder, RunOrder, ThreadData, ToThread } from "./protocol.js";

const port = parentPort;
if (port === null) throw new Error("thread-entry.js runs as a worker thread of the run pool");
const { data, taken } = workerData as PoolWorkerData<ThreadData>;

/**
 * Graph code's `import … from "kaygraph"` gets the package's thread entry (same exports, no HTTP server
 * modules: see resolve-hook.ts). Built files only: from the sources the graphs' "kaygraph" is dist anyway.
 */
function registerResolveHook(): void {
  if (!import.meta.url.endsWith(".js")) return;
  const hookData: ResolveHookData = { index: new URL("../../index.js", import.meta.url).href, threadIndex: new URL("../../thread-index.js", import.meta.url).href };
  register(new URL("./resolve-hook.js", import.meta.url), { data: hookData });
}

/** One run on this thread. */
class ThreadRun {
  /** Its signal is made only if graph code reads it. */
  readonly controller = new LazyAbort();
  private pending: RunEvent[] = [];
  private scheduled = false;
  private lastSeq = 0;
  /** Set when something of the run could not be sent: the run ends INTERNAL_ERROR with this message. */
  unsendable: string | undefined;
  /** The seq of the first event that could not be sent: the INTERNAL_ERROR ending takes its place. */
  private cutSeq: number | undefined;

  /** The event types the caller wants (undefined: all). */
  private readonly wanted: ReadonlySet<string> | undefined;

  constructor(readonly order: RunOrder) {
    this.wanted = order.events && new Set(order.events);
  }

  readonly onEvent = (event: RunEvent): void => {
    // Nothing of the run goes out after an event that could not be sent (its ending replaces it).
    if (this.unsendable !== undefined) return;
    this.lastSeq = event.seq;
    if (this.wanted !== undefined && !this.wanted.has(event.type)) return;
    this.pending.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.flush);
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0 || runs.get(this.order.job) !== this) return;
    const events = this.take();
    if (send({ type: "events", job: this.order.job, events })) return;
    // The events before the one that cannot be sent still go out, in order; that one and the rest do not.
    const bad = sendEach(this.order.job, events);
    if (bad === undefined) return;
    this.cut(bad.seq);
    this.fail(`An event of the run cannot be serialised as JSON (${describeUnsendable(bad)}).`);
  };

  /** The ending replaces the event `seq` (the first that could not be sent), so seqs stay without gaps. */
  cut(seq: number): void {
    this.cutSeq = Math.min(this.cutSeq ?? seq, seq);
  }

  private checkpoints = 0;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  /**
   * Sends a checkpoint (with the events before it) and waits until the caller has stored it; a held start
   * checkpoint (see `RunOrder.startHeld`) is sent and not waited for.
   */
  checkpoint(checkpoint: Checkpoint): Promise<void> {
    const seq = ++this.checkpoints;
    if (seq === 1 && this.order.startHeld === true && checkpoint.step === 0) {
      if (send({ type: "checkpoint", job: this.order.job, seq, checkpoint: checkpointText(checkpoint), head: checkpointHead(checkpoint), events: this.take(), unwaited: true })) return Promise.resolve();
      return Promise.reject(new Error("The checkpoint cannot be sent to the main thread."));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(seq, { resolve, reject });
      if (!send({ type: "checkpoint", job: this.order.job, seq, checkpoint: checkpointText(checkpoint), head: checkpointHead(checkpoint), events: this.take() })) {
        this.waiting.delete(seq);
        reject(new Error("The checkpoint cannot be sent to the main thread."));
      }
    });
  }

  checkpointDone(answer: CheckpointAnswer): void {
    const waiter = this.waiting.get(answer.seq);
    this.waiting.delete(answer.seq);
    if (answer.error === undefined) waiter?.resolve();
    else if (waiter !== undefined) waiter.reject(abortReason(answer.error.code, answer.error.message));
    // A checkpoint the run did not wait for failed: the run stops with that error, as it would have there.
    else this.controller.abort(abortReason(answer.error.code, answer.error.message));
  }

  take(): RunEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /** Ends the run early with INTERNAL_ERROR: its terminal event will say `message`. */
  fail(message: string): void {
    this.unsendable ??= message;
    this.controller.abort(new Error(message));
  }

  /** The terminal error event replacing the run's own (a result that cannot be sent, an unsendable event). */
  terminalError(message: string): RunEvent {
    return { type: "error", seq: this.cutSeq ?? this.lastSeq + 1, ts: Date.now(), error: message, error_code: "INTERNAL_ERROR" };
  }
}

const runs = new Map<number, ThreadRun>();
/** The graphs by generation (see ReloadOrder): the latest, and the one runs are ordered under until it swaps. */
const registries = new Map<number, GraphRegistry>();
let loadError = "";
let loadOrdered!: (data: ThreadData) => void;
// A deferred thread's order may come while it still warms up: it is kept until then.
const ordered = new Promise<ThreadData>((resolve) => (loadOrdered = resolve));
const loading = (data.deferred ? Promise.all([warmUp(), ordered]).then(([, what]) => what) : warmUp().then(() => data)).then(load);

function load(what: ThreadData): Promise<void> {
  traceReload("thread load");
  if (what.env !== undefined) replaceEnv(what.env);
  return loadGraphFiles(what.files, what.root, what.generation).then(
    (loaded) => {
      keep(what.generation ?? 0, loaded);
      traceReload("thread ready");
      port?.postMessage({ type: "ready" });
    },
    (error: unknown) => {
      // Kept alive (no respawn loop): runs placed here fail with the reason.
      loadError = describeLoadError(error, what.root);
      port?.postMessage({ type: "load-failed", message: loadError });
    },
  );
}

/** `loaded` is the latest generation; generations but it and `serving` (the one runs are ordered under now) are let go. */
function keep(generation: number, loaded: GraphRegistry, serving = generation): void {
  registries.set(generation, loaded);
  for (const known of registries.keys()) if (known !== generation && known !== serving) registries.delete(known);
}

/** An in-place reload: the graphs again under a new generation; the answer says whether they loaded. */
async function reload(order: ReloadOrder): Promise<void> {
  await loading;
  traceReload("thread reload");
  let reply: ControlReply;
  try {
    keep(order.data.generation ?? 0, await loadGraphFiles(order.data.files, order.data.root, order.data.generation), order.serving);
    loadError = "";
    reply = { type: "control-reply", control: order.control };
  } catch (error) {
    reply = { type: "control-reply", control: order.control, error: describeLoadError(error, order.data.root) };
  }
  traceReload("thread reloaded");
  port?.postMessage(reply);
}

/** The thread's `process.env` (its own copy) becomes `env`. */
function replaceEnv(env: Record<string, string | undefined>): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) process.env[key] = value;
}

/**
 * Before the graphs, a thread loads what every project's graphs load — kaygraph itself (the module a graph's
 * `import "kaygraph"` resolves to, when the project uses this copy) and the TypeScript loader — so that
 * loading the graphs (later, in a thread started ahead of its project) costs only the graphs. kaygraph comes
 * first, through Node's own loader: once loader hooks are registered, every module loaded costs a round trip
 * to the hooks thread. A failure here is left for the real load to report.
 */
async function warmUp(): Promise<void> {
  // What a graph's `import "kaygraph"` resolves to in a run thread (see resolve-hook.ts).
  await import("../../thread-index.js").catch(() => undefined);
  registerResolveHook();
  await registerTypeScript().catch(() => undefined);
  traceReload("thread warm");
}

port.on("message", (received: ToThread | PoolBatch) => {
  for (const message of unbatch(received)) take(message);
});

function take(message: ToThread): void {
  if (message.type === "run") {
    // Runs that ended go out before new graph code starts: should it block, their results are not held back.
    flushOutbox();
    // Taken in: from here on something of it may run (the pool moves only runs never taken in).
    Atomics.add(taken, 0, 1);
    void execute(message);
  }
  else if (message.type === "pool:data") loadOrdered(message.data);
  else if (message.type === "reload") void reload(message);
  else if (message.type === "checkpoint-done") runs.get(message.job)?.checkpointDone(message);
  else if (message.type === "abort") runs.get(message.job)?.controller.abort(message.code === "CANCELLED" ? new CancelledReason(message.message) : abortReason(message.code, message.message));
}

async function execute(order: RunOrder): Promise<void> {
  const run = new ThreadRun(order);
  runs.set(order.job, run);
  await loading;
  const generation = registries.get(order.generation ?? 0);
  const graph = generation?.find(order.graph, order.version);
  let report: EndReport;
  try {
    // A thread started on newer code than the run was ordered under (a replacement during a reload) runs nothing else.
    if (generation === undefined && registries.size > 0) throw new DefinitionRunError("ABORTED", `Graph ${order.graph} v${order.version} was ordered under code this run thread no longer has (it was reloaded); try again.`, { rerunnable: true });
    if (graph === undefined) throw new DefinitionRunError("GRAPH_ERROR", `Graph ${order.graph} v${order.version} is not loaded in this run thread${loadError ? `: ${loadError}` : "."}`);
    const { request } = order;
    const output = await runDefinition(graph, request.input, {
      inputValidated: true,
      controller: run.controller,
      onEvent: run.onEvent,
      requestId: request.requestId,
      runId: request.runId,
      user: request.user,
      taskId: request.taskId,
      timeoutMs: request.timeoutMs,
      from: request.from,
      resume: request.resume,
      ...(order.checkpoints && { onCheckpoint: (checkpoint: Checkpoint) => run.checkpoint(checkpoint) }),
    });
    report = { type: "end", job: order.job, events: run.take(), ok: true, output };
  } catch (error) {
    report = { type: "end", job: order.job, events: run.take(), ok: false, failure: failureData(error) };
  }
  runs.delete(order.job);
  if (run.unsendable !== undefined) report = replaceEnding(report, run, run.unsendable);
  const ending = report;
  sendAtTurnEnd(ending, () => deliverEnd(ending, run));
}

/**
 * End reports of this event loop turn, sent together at its end (see PoolBatch) or before the next run order
 * is taken in, whichever comes first; each with its own way out should the batch not clone.
 */
let outbox: Array<{ message: FromThread; alone: () => void }> = [];

function sendAtTurnEnd(message: FromThread, alone: () => void): void {
  if (outbox.length === 0) setImmediate(flushOutbox);
  outbox.push({ message, alone });
}

function flushOutbox(): void {
  if (outbox.length === 0) return;
  const entries = outbox;
  outbox = [];
  if (entries.length > 1) {
    try {
      port?.postMessage({ type: "pool:batch", messages: entries.map((e) => e.message) } satisfies PoolBatch);
      return;
    } catch {
      // One of them cannot be cloned as it is: each goes alone, the way a single one would.
    }
  }
  for (const entry of entries) entry.alone();
}

/** Sends a run's end report; one that cannot be sent is replaced by an INTERNAL_ERROR ending that can. */
function deliverEnd(report: EndReport, run: ThreadRun): void {
  if (send(report)) return;
  const bad = report.events.find((e) => !sendable(e));
  const what = bad === undefined ? (report.ok ? "result" : "failure") : bad.type === "result" ? "result" : `${bad.type} event`;
  const message = `The run's ${what} cannot be serialised as JSON (${describeUnsendable(bad ?? report)}).`;
  const replaced = replaceEnding(report, run, message);
  if (send(replaced)) return;
  // Events that each cross but not together (one not cloneable, another not JSON), or details that cannot:
  // the events one by one up to the first that cannot go, then the ending alone (always sendable).
  const unsent = sendEach(report.job, replaced.events.slice(0, -1));
  if (unsent !== undefined) run.cut(unsent.seq);
  send({ type: "end", job: report.job, events: [run.terminalError(message)], ok: false, failure: { code: "INTERNAL_ERROR", message } });
}

/**
 * Sends `events` one message each, in order, stopping at the first that cannot be sent (returned); for a
 * batch that failed as a whole although each of its events alone might cross.
 */
function sendEach(job: number, events: readonly RunEvent[]): RunEvent | undefined {
  return events.find((event) => !send({ type: "events", job, events: [event] }));
}

/**
 * The end report with an INTERNAL_ERROR ending instead of the run's own (callers outside debug see a generic
 * message; the main thread logs this one, which names the reason).
 */
function replaceEnding(report: EndReport, run: ThreadRun, message: string): EndReport {
  const events: RunEvent[] = [];
  for (const event of report.events) {
    if (event.type === "result" || event.type === "error" || !sendable(event)) {
      run.cut(event.seq);
      break;
    }
    events.push(event);
  }
  events.push(run.terminalError(message));
  return { type: "end", job: report.job, events, ok: false, failure: { code: "INTERNAL_ERROR", message, cause: { name: "TypeError", message } } };
}

/**
 * Posts a message; what structured clone refuses (a function, a class with private state) is sent as its
 * JSON form instead — exactly what every transport would have sent of it. False when even that fails.
 */
function send(message: FromThread): boolean {
  try {
    port?.postMessage(message);
    return true;
  } catch {
    try {
      port?.postMessage(JSON.parse(JSON.stringify(message)) as FromThread);
      return true;
    } catch {
      return false;
    }
  }
}

/** True when `event` can cross to the main thread (cloned, or as its JSON form). */
function sendable(event: RunEvent): boolean {
  try {
    structuredClone(event);
    return true;
  } catch {
    try {
      JSON.stringify(event);
      return true;
    } catch {
      return false;
    }
  }
}

function describeUnsendable(value: unknown): string {
  try {
    JSON.stringify(value);
    return "it cannot be cloned";
  } catch (error) {
    return messageOf(error);
  }
}

function abortReason(code: string | undefined, message: string): Error {
  const reason = new Error(message);
  if (code !== undefined) (reason as Error & { code?: string }).code = code;
  return reason;
}

function failureData(error: unknown): FailureData {
  if (!(error instanceof DefinitionRunError)) return { code: "GRAPH_ERROR", message: messageOf(error), cause: causeData(error) };
  const failure: FailureData = { code: error.code, message: error.message };
  if (error.node !== undefined) failure.node = error.node;
  if (error.details !== undefined) failure.details = cloneable(error.details);
  // An interrupt's value and checkpoint were checked to round-trip through JSON.
  if (error.interrupt !== undefined) failure.interrupt = error.interrupt;
  if (error.cause !== undefined) failure.cause = causeData(error.cause);
  return failure;
}

function causeData(cause: unknown): FailureData["cause"] {
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return { name: cause.name, message: cause.message, ...(cause.stack !== undefined && { stack: cause.stack }), ...(typeof code === "string" && { code }) };
  }
  return { name: "Error", message: messageOf(cause) };
}

function cloneable(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return undefined;
  }
}
