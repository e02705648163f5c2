/**
 * The worker loop over a {@link TaskStore}: claims up to `concurrency` tasks, runs each through `execute`,
 * sweeps lost leases and prunes old tasks on timers, and stops gracefully (running tasks finish until a
 * deadline, then are handed back so the next start runs them).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { TaskExecution, type TaskExecute } from "./task-execution.js";
import type { Lease, TaskStore } from "./types.js";

/** Options of a {@link TaskRunner}. */
export interface TaskRunnerOptions {
  /** Tasks this process runs at once. */
  concurrency: number;
  /** How long a claim holds without renewal. */
  leaseMs: number;
  /** Runs one task; see {@link TaskExecute}. */
  execute: TaskExecute;
  /** Lease renewal period; default a third of `leaseMs`. */
  renewEveryMs?: number;
  /** Sweep period (lost leases); default half of `leaseMs`. */
  sweepEveryMs?: number;
  /** Retention pruning period; default one minute. */
  pruneEveryMs?: number;
  /** Background errors (store unreachable, unserialisable events). Default: a process warning. */
  onError?: (error: unknown) => void;
  /** Jitter source, for tests. */
  random?: () => number;
}

/**
 * Runs background tasks from a store.
 *
 * @example
 * const runner = new TaskRunner(store, { concurrency: 4, leaseMs: 30_000, execute: (task, { signal, emit }) => run(task, signal, emit) });
 * runner.start();
 * process.once("SIGTERM", () => void runner.stop({ deadlineMs: 10_000 }));
 */
export class TaskRunner {
  private readonly active = new Set<TaskExecution>();
  private readonly onError: (error: unknown) => void;
  private stopping: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private slotFreed: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly store: TaskStore,
    private readonly options: TaskRunnerOptions,
  ) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${options.concurrency}`);
    if (!(options.leaseMs > 0)) throw new RangeError(`leaseMs must be positive, got ${options.leaseMs}`);
    this.onError = options.onError ?? ((error) => process.emitWarning(`kaygraph task runner: ${error instanceof Error ? error.message : String(error)}`, { code: "KG_TASK_RUNNER" }));
  }

  /** Tasks running now. */
  get running(): number {
    return this.active.size;
  }

  /** Starts claiming. Calling it while started does nothing. */
  start(): void {
    if (this.loop) return;
    const stopping = (this.stopping = new AbortController());
    this.loop = this.claimLoop(stopping.signal);
    const every = (ms: number, job: () => Promise<unknown>): void => {
      let busy = false;
      const timer = setInterval(() => {
        if (busy) return;
        busy = true;
        job()
          .catch(this.onError)
          .finally(() => (busy = false));
      }, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.sweepEveryMs ?? Math.max(100, this.options.leaseMs / 2), () => this.store.sweep());
    every(this.options.pruneEveryMs ?? 60_000, () => this.store.prune());
  }

  /**
   * Stops claiming, lets running tasks finish for up to `deadlineMs`, then stops the rest and hands them
   * back to the store (pending again, the attempt not counted).
   */
  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    if (!this.loop || !this.stopping) return;
    this.stopping.abort();
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.loop;
    const finished = Promise.all([...this.active].map((e) => e.done));
    const deadline = new AbortController();
    // The deadline timer is aborted once everything finished; its AbortError then just means "not timed out".
    const timedOut = await Promise.race([finished.then(() => false), sleep(options.deadlineMs ?? 30_000, true, { signal: deadline.signal }).catch(() => false)]);
    deadline.abort();
    if (timedOut) for (const execution of this.active) execution.shutdown();
    await Promise.all([...this.active].map((e) => e.done));
    this.loop = undefined;
    this.stopping = undefined;
  }

  private async claimLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.active.size >= this.options.concurrency) {
        await this.slotFree(signal);
        continue;
      }
      let leases: Lease[];
      try {
        // Every free slot in one claim: one store round trip (one transaction) for several tasks.
        leases = await this.store.claimBatch({ leaseMs: this.options.leaseMs, signal }, this.options.concurrency - this.active.size);
      } catch (error) {
        this.onError(error);
        // The store is unreachable: back off instead of spinning, but stay stoppable (stop aborts the sleep).
        await sleep(1000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (signal.aborted) {
        await Promise.all(leases.map((lease) => this.store.release(lease).catch(this.onError)));
        return;
      }
      for (const lease of leases) this.launch(lease);
    }
  }

  private launch(lease: Lease): void {
    const execution = new TaskExecution(lease, {
      store: this.store,
      execute: this.options.execute,
      leaseMs: this.options.leaseMs,
      renewEveryMs: this.options.renewEveryMs ?? Math.max(50, this.options.leaseMs / 3),
      random: this.options.random ?? Math.random,
      onError: this.onError,
    });
    this.active.add(execution);
    void execution.done.then(() => {
      this.active.delete(execution);
      this.slotFreed?.();
    });
  }

  private slotFree(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.slotFreed = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.slotFreed = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
