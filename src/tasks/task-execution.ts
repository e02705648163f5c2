/**
 * One attempt of one claimed task inside a {@link TaskRunner}: runs `execute` with a signal, keeps the
 * lease alive, stores the run's events in order, and ends the attempt with exactly one fenced transition.
 */
import type { RunEvent } from "../graph/events.js";
import type { Checkpoint } from "../graph/interrupt.js";
import { jsonText } from "../graph/json-text.js";
import { errorCodeOf, messageOf } from "../graph/run-errors.js";
import type { ClaimedTask, Lease, TaskError, TaskEventInput, TaskStore } from "./types.js";

/** What `execute` gets besides the task. */
export interface TaskExecuteContext {
  /** Fires on cancel, timeout, shutdown past the deadline, or a lost lease. Its reason has a `code`. */
  signal: AbortSignal;
  /** Forwards a run event to the task's stored events (its seq is rewritten; terminal events are the runner's). */
  emit: (event: RunEvent) => void;
  /** Stores the run's latest checkpoint; resolves once stored (rejects when the lease is lost). */
  checkpoint: (checkpoint: Checkpoint) => Promise<void>;
  /**
   * True for a fresh task (no checkpoint, never resumed): `checkpoint` resolves its start checkpoint (the
   * run's first, at step 0) at once and never rejects it (it is held, see TaskExecution), so the run need
   * not wait for it.
   */
  startCheckpointHeld: boolean;
}

/** Runs a task's graph; resolves to its output, rejects with an error whose `code` names the failure. */
export type TaskExecute = (task: ClaimedTask, context: TaskExecuteContext) => unknown;

/** Why an attempt was stopped from outside. */
export class AttemptStopped extends Error {
  constructor(
    readonly code: "CANCELLED" | "TIMEOUT" | "SHUTDOWN" | "LEASE_LOST",
    message: string,
  ) {
    super(message);
    this.name = "AttemptStopped";
  }
}

/** Codes that fail the task at once: running again cannot fix them. */
const NOT_RETRYABLE = new Set(["VALIDATION_ERROR", "MAX_STEPS", "CANCELLED", "CHECKPOINT_FAILED", "INTERNAL_ERROR"]);
const MAX_BACKOFF_MS = 3_600_000;
/** Events stored per append. */
const APPEND_BATCH = 500;
const JITTER = 0.2;

/**
 * The delay before retry number `failedAttempts` (1-based): `backoffMs · 2^(n-1)`, capped at an hour, plus up
 * to 20 % jitter so tasks that failed together do not retry together.
 *
 * @example
 * backoffDelay(1000, 3, () => 0); // 4000
 */
export function backoffDelay(backoffMs: number, failedAttempts: number, random: () => number = Math.random): number {
  const base = Math.min(backoffMs * 2 ** Math.max(0, failedAttempts - 1), MAX_BACKOFF_MS);
  return Math.round(base * (1 + JITTER * random()));
}

/** Shared settings of the executions of one runner. */
export interface ExecutionSettings {
  store: TaskStore;
  execute: TaskExecute;
  leaseMs: number;
  renewEveryMs: number;
  random: () => number;
  onError: (error: unknown) => void;
}

type Ending = { kind: "ok"; value: unknown } | { kind: "error"; error: unknown } | { kind: "stopped"; reason: AttemptStopped };

/** An ending by `interrupt()`: the store's interrupt transition writes the run's checkpoint itself. */
const isInterrupt = (ending: Ending): boolean => ending.kind === "error" && (ending.error as { code?: unknown } | null)?.code === "INTERRUPTED";

/** Executions with events emitted this turn, flushed on the next one by a single immediate for all of them. */
let emitted: TaskExecution[] = [];

/**
 * Flushes `execution`'s emitted events on the next turn. One immediate serves every execution of the process
 * (a durable run emits a node's events each turn, so at concurrency 32 that is 31 immediates less per turn);
 * the executions flush in the order they emitted, as with one immediate each.
 */
function flushNextTurn(execution: TaskExecution): void {
  emitted.push(execution);
  if (emitted.length > 1) return;
  setImmediate(() => {
    const due = emitted;
    emitted = [];
    for (const each of due) each.flushEmitted();
  });
}

/** One running attempt; `done` settles (never rejects) once the task is handed over to the store. */
export class TaskExecution {
  readonly done: Promise<void>;
  private readonly controller = new AbortController();
  private buffer: TaskEventInput[] = [];
  private flushing: Promise<void> | undefined;
  private flushScheduled = false;
  private closed = false;
  /** A fresh task's start checkpoint, not written yet (see {@link checkpoint}); undefined once superseded. */
  private heldStart: Checkpoint | undefined;
  /** True once the run took a checkpoint: only its first can be the start checkpoint. */
  private checkpointed = false;

  constructor(
    private readonly lease: Lease,
    private readonly settings: ExecutionSettings,
  ) {
    this.done = this.run();
  }

  get taskId(): string {
    return this.lease.task.id;
  }

  /** Graceful shutdown past its deadline: stop now and hand the task back. */
  shutdown(): void {
    this.stop(new AttemptStopped("SHUTDOWN", "The worker is shutting down."));
  }

  private async run(): Promise<void> {
    const stopTimers = this.startTimers();
    try {
      const ending = await this.attempt();
      this.closed = true;
      stopTimers();
      // A held start checkpoint no later one replaced is written before the ending (which would fence it). If the
      // lease is gone meanwhile, the ending's transition is refused too and says how the task ended.
      const lost = ending.kind === "stopped" && ending.reason.code === "LEASE_LOST";
      const start = !lost && !isInterrupt(ending) && this.heldStart !== undefined;
      if (lost) {
        await this.settle(ending);
      } else {
        // An append under way (or a backlog beyond one batch) is stored first; what it leaves goes below.
        while (this.flushing || this.buffer.length > APPEND_BATCH) await this.flush();
        // Then the start checkpoint (with the last events), or the last events, and the ending without waiting in
        // between: the store applies one lease's writes in call order (on SQLite they land in the same group
        // commit; Redis carries them in the ending's own script call), which saves a round trip per task.
        await Promise.all([start ? this.writeHeldStart() : this.flush(true), this.settle(ending)]);
      }
    } catch (error) {
      // The store failed; the lease expires and a sweeper puts the task back, so nothing is lost.
      this.settings.onError(error);
    } finally {
      stopTimers();
    }
  }

  private attempt(): Promise<Ending> {
    return new Promise<Ending>((resolve) => {
      const { signal } = this.controller;
      // Stopping does not wait for `execute` to notice: a graph that ignores its signal cannot hold a task.
      signal.addEventListener("abort", () => resolve({ kind: "stopped", reason: signal.reason as AttemptStopped }), { once: true });
      const { task } = this.lease;
      const context: TaskExecuteContext = { signal, emit: (event) => this.emit(event), checkpoint: (cp) => this.checkpoint(cp), startCheckpointHeld: task.checkpoint === null && task.resumes === 0 };
      Promise.resolve()
        .then(() => this.settings.execute(this.lease.task, context))
        .then(
          (value) => resolve({ kind: "ok", value }),
          (error: unknown) => resolve({ kind: "error", error }),
        );
    });
  }

  private startTimers(): () => void {
    const { task } = this.lease;
    const onCancel = (): void => this.stop(new AttemptStopped("CANCELLED", "The task was cancelled."));
    if (this.lease.signal.aborted) onCancel();
    this.lease.signal.addEventListener("abort", onCancel, { once: true });
    const timeout = task.timeout_ms === null ? undefined : setTimeout(() => this.stop(new AttemptStopped("TIMEOUT", `The task exceeded its timeout of ${task.timeout_ms} ms.`)), task.timeout_ms);
    let renewing = false;
    const renewal = setInterval(() => {
      if (renewing) return;
      renewing = true;
      this.settings.store
        .renew(this.lease, this.settings.leaseMs)
        .then((r) => {
          if (!r.ok) this.stop(new AttemptStopped("LEASE_LOST", "This worker lost the task's lease."));
          else if (r.cancelRequested) onCancel();
        })
        .catch((error: unknown) => this.settings.onError(error))
        .finally(() => (renewing = false));
    }, this.settings.renewEveryMs);
    return () => {
      clearTimeout(timeout);
      clearInterval(renewal);
      this.lease.signal.removeEventListener("abort", onCancel);
    };
  }

  private stop(reason: AttemptStopped): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  private checkpoint(checkpoint: Checkpoint): Promise<void> {
    const start = this.isStartCheckpoint(checkpoint);
    this.checkpointed = true;
    // Superseded: the start checkpoint is never written once a later one is.
    this.heldStart = undefined;
    if (!start) return this.storeCheckpoint(checkpoint);
    // The start checkpoint of a fresh task (no node has run, none stored before) records nothing a crash could
    // lose: without it a recovered attempt starts from the beginning just the same. So the run does not wait
    // for it, and it is not even written unless the attempt ends before taking another one (then it is written
    // before the ending, so the task's state shows it); usually the first node's checkpoint replaces it and
    // carries its events: one store write less per task. Until then the run's events go out as they come.
    this.heldStart = checkpoint;
    return Promise.resolve();
  }

  /** Before any node ran: a fresh task's first checkpoint at step 0. */
  private isStartCheckpoint(checkpoint: Checkpoint): boolean {
    return !this.checkpointed && this.lease.task.checkpoint === null && this.lease.task.resumes === 0 && checkpoint.step === 0;
  }

  /** Writes the held start checkpoint, if any (not stored when the lease is gone). */
  private async writeHeldStart(): Promise<void> {
    const held = this.heldStart;
    this.heldStart = undefined;
    if (held === undefined) return;
    try {
      await this.storeCheckpoint(held);
    } catch (error) {
      if (!(error instanceof AttemptStopped)) throw error;
    }
  }

  private storeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    // Events before the checkpoint are stored with it (one write per node), so a resumed task's events stay in
    // order; a larger backlog (or an append already under way) is stored first.
    if (this.flushing || this.buffer.length > APPEND_BATCH) return this.flush().then(() => this.storeCheckpoint(checkpoint));
    const events = this.buffer;
    this.buffer = [];
    // Not async: the run waits for this promise before its next node, so each hop less counts. (A store that
    // throws instead of rejecting still rejects this promise, as it did when this was async.)
    let storing: Promise<boolean>;
    try {
      storing = this.settings.store.checkpoint(this.lease, checkpoint, events);
    } catch (error) {
      return Promise.reject(error);
    }
    return storing.then((stored) => {
      if (stored) return;
      const lost = new AttemptStopped("LEASE_LOST", "This worker lost the task's lease.");
      this.stop(lost);
      throw lost;
    });
  }

  private emit(event: RunEvent): void {
    // The attempt's own terminal event is not the task's: a failed attempt may be retried, an interrupt is
    // stored by the store's own transition.
    if (this.closed || event.type === "result" || event.type === "error" || event.type === "interrupt") return;
    const { seq: _runSeq, ...rest } = event;
    try {
      JSON.stringify(rest);
    } catch (error) {
      this.settings.onError(new TypeError(`Task ${this.taskId}: a ${event.type} event is not JSON-serialisable and was not stored (${messageOf(error)})`));
      return;
    }
    this.buffer.push(rest);
    if (this.flushScheduled) return;
    // Events emitted in one tick are stored in one write.
    this.flushScheduled = true;
    flushNextTurn(this);
  }

  /** The turn after events were emitted (see {@link flushNextTurn}). */
  flushEmitted(): void {
    this.flushScheduled = false;
    // A checkpoint may have taken the events with it meanwhile (every node of a durable run does).
    try {
      if (this.buffer.length > 0) void this.flush();
    } catch (error) {
      // Not expected (flush reports its own errors); never keeps the executions after this one from flushing.
      this.settings.onError(error);
    }
  }

  /** Stores the buffered events (`last`: the attempt's ending stores them, so hold none back). */
  private flush(last = false): Promise<void> {
    this.flushing ??= this.drain(last).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(last: boolean): Promise<void> {
    while (this.buffer.length > 0) {
      // Once the attempt ended, what is left (one batch at most) goes with the ending's writes (see run).
      if (this.closed && !last && this.buffer.length <= APPEND_BATCH) return;
      const batch = this.buffer.splice(0, APPEND_BATCH);
      let stored: boolean;
      try {
        stored = await this.settings.store.appendEvents(this.lease, batch);
      } catch (error) {
        this.settings.onError(error);
        continue;
      }
      if (!stored) {
        this.buffer = [];
        this.stop(new AttemptStopped("LEASE_LOST", "This worker lost the task's lease."));
      }
    }
  }

  private async settle(ending: Ending): Promise<void> {
    const { store } = this.settings;
    if (ending.kind === "ok") {
      // No result (undefined) is stored as null.
      const result = ending.value ?? null;
      const json = jsonText(result);
      if (json.ok) {
        await store.complete(this.lease, result, json.text);
        return;
      }
      // Cannot be stored, so the task fails (at once: running it again would make the same kind of value).
      const message = `The task's result cannot be stored: it cannot be serialised as JSON (${messageOf(json.error)}).`;
      this.settings.onError(new TypeError(`Task ${this.taskId}: ${message}`));
      await this.failure({ error_code: "INTERNAL_ERROR", message });
      return;
    }
    if (ending.kind === "error") {
      const stop = (ending.error as { code?: unknown; interrupt?: { node: string; value: unknown; checkpoint: Checkpoint } } | null);
      if (stop?.code === "INTERRUPTED" && stop.interrupt !== undefined) {
        await store.interrupt(this.lease, stop.interrupt);
        return;
      }
      // Stopped through no fault of its own (a neighbour's run thread was terminated): handed back, not counted.
      if ((ending.error as { rerunnable?: unknown } | null)?.rerunnable === true) {
        await store.release(this.lease, { error_code: errorCodeOf(ending.error), message: messageOf(ending.error) });
        return;
      }
      const node = (ending.error as { node?: unknown } | null)?.node;
      await this.failure({ error_code: errorCodeOf(ending.error), message: messageOf(ending.error) }, typeof node === "string" ? node : undefined);
      return;
    }
    const { code, message } = ending.reason;
    // A cancelled task is handed back too: the store ends a task whose cancel was requested as `cancelled`.
    if (code === "SHUTDOWN" || code === "CANCELLED") await store.release(this.lease);
    else if (code === "TIMEOUT") await this.failure({ error_code: "TIMEOUT", message });
  }

  private async failure(error: TaskError, node?: string): Promise<void> {
    const { task } = this.lease;
    // Lost attempts and attempts that ended in an interrupt are not failures of the graph.
    const failedAttempts = task.attempts - task.lost - task.resumes;
    if (!NOT_RETRYABLE.has(error.error_code) && failedAttempts < task.max_attempts) {
      const delayMs = backoffDelay(task.backoff_ms, failedAttempts, this.settings.random);
      await this.settings.store.retry(this.lease, { error, delayMs });
    } else {
      await this.settings.store.fail(this.lease, node === undefined ? error : { ...error, node });
    }
  }
}
