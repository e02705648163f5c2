/**
 * A task store under watch: a probe about every second (SQLite: `SELECT 1` and the file's identity; Redis: a
 * bounded PING) and every failed call keep {@link StoreHealth} current. While the store is down, API calls fail
 * at once with {@link StoreUnavailableError} (HTTP 503 `UNAVAILABLE`), housekeeping pauses, and claims wait.
 * A SQLite file that is no longer the one at its path is not used at all (every call refused) until the same
 * file is back. A process that joins a running service may boot without its store (it could not be opened):
 * it then tries again every second instead of failing to boot.
 */
import { Errors, KaygraphError } from "../errors.js";
import { identityReason, StoreIdentityError } from "./sqlite-identity.js";
import { isStoreFault, marksStoreDown, publicReason, StoreHealth, StoreUnavailableError } from "./store-health.js";
import type { Checkpoint } from "../graph/interrupt.js";
import type {
  ClaimOptions, Lease, ListTasksQuery, OwnerScope, RenewResult, SubmitResult, SubmitTaskInput, SweepReport, TaskError,
  TaskEvent, TaskEventInput, TaskEventListener, TaskInterrupt, TaskPage, TaskRecord, TaskStore, TransitionOutcome,
  WebhookClaim, WebhookDelivery, WebhookOutboxEntry, WebhookSettlement,
} from "./types.js";

/** A store that can check its own health cheaply. */
export type ProbedTaskStore = TaskStore & { probe?(): Promise<void> };

/** Options of {@link WatchedTaskStore.open}. */
export interface WatchedTaskStoreOptions {
  backend: TaskStore["backend"];
  /** Opens the underlying store (called again every probe period while it could not be opened). */
  open: () => Promise<ProbedTaskStore>;
  /** Where up/down is recorded (and logged by its listener). */
  health: StoreHealth;
  /**
   * When the first open fails: `"fail"` rejects (a service starting up says so at once); `"retry"` starts
   * without the store, down, and tries again every period (a process joining a running service).
   */
  onOpenFailure: "fail" | "retry";
  /** Probe period; default 1000 ms. */
  probeEveryMs?: number;
}

/**
 * The watched store.
 *
 * @example
 * const store = await WatchedTaskStore.open({ backend: "sqlite", open: async () => SqliteTaskStore.open(settings), health, onOpenFailure: "retry" });
 */
export class WatchedTaskStore implements TaskStore {
  readonly backend: TaskStore["backend"];
  private inner: ProbedTaskStore | undefined;
  /** True while the inner store must not be used (its file is no longer the one at the path). */
  private detached = false;
  /** Aborted by every detach: claims waiting inside the inner store return. */
  private claims = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private checking = false;
  private closed = false;
  private readonly probeEveryMs: number;

  private constructor(
    private readonly options: WatchedTaskStoreOptions,
    inner: ProbedTaskStore | undefined,
  ) {
    this.backend = options.backend;
    this.inner = inner;
    this.probeEveryMs = options.probeEveryMs ?? 1000;
    options.health.register("tasks", options.backend);
    this.timer = setInterval(() => void this.check(), this.probeEveryMs);
    this.timer.unref();
  }

  /** Opens the store and starts watching it (see {@link WatchedTaskStoreOptions.onOpenFailure}). */
  static async open(options: WatchedTaskStoreOptions): Promise<WatchedTaskStore> {
    try {
      return new WatchedTaskStore(options, await options.open());
    } catch (error) {
      if (options.onOpenFailure === "fail") throw error;
      const store = new WatchedTaskStore(options, undefined);
      options.health.markDown("tasks", openReason(error, options.backend), error);
      return store;
    }
  }

  /** One probe (also run by the timer): opens a store not open yet, checks an open one, updates the health. */
  async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    const { health } = this.options;
    try {
      if (this.inner === undefined) {
        try {
          this.inner = await this.options.open();
        } catch (error) {
          health.markDown("tasks", openReason(error, this.backend), error);
          return;
        }
        if (this.closed) await this.inner.close();
        health.markUp("tasks");
        return;
      }
      try {
        await this.inner.probe?.();
      } catch (error) {
        if (error instanceof StoreIdentityError) this.detach();
        health.markDown("tasks", error instanceof StoreIdentityError ? identityReason(error.change) : publicReason(error, this.backend), error);
        return;
      }
      // The same file is back at its path (moved back): use it again.
      this.detached = false;
      health.markUp("tasks");
    } finally {
      this.checking = false;
    }
  }

  // #region API side: refused at once while the store is down

  submit(input: SubmitTaskInput): Promise<SubmitResult> {
    return this.api((s) => s.submit(input));
  }

  get(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined> {
    return this.api((s) => s.get(id, scope));
  }

  list(query?: ListTasksQuery): Promise<TaskPage> {
    return this.api((s) => s.list(query));
  }

  cancel(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined> {
    return this.api((s) => s.cancel(id, scope));
  }

  events(id: string, afterSeq?: number, limit?: number): Promise<TaskEvent[]> {
    return this.api((s) => s.events(id, afterSeq, limit));
  }

  subscribe(id: string, afterSeq: number, listener: TaskEventListener): () => void {
    return this.available().subscribe(id, afterSeq, listener);
  }

  resume(id: string, value: unknown, options?: OwnerScope & { idempotencyKey?: string }): Promise<SubmitResult | undefined> {
    return this.api((s) => s.resume(id, value, options));
  }

  state(id: string, scope?: OwnerScope): Promise<Checkpoint | null | undefined> {
    return this.api((s) => s.state(id, scope));
  }

  // #endregion
  // #region worker side: passes through a passing fault (the call fails on its own), never to a detached file

  async claim(options: ClaimOptions): Promise<Lease | undefined> {
    return (await this.claimBatch(options, 1))[0];
  }

  async claimBatch(options: ClaimOptions, max: number): Promise<Lease[]> {
    const inner = this.usable();
    if (inner === undefined) {
      // Nothing to claim from: wait a probe period (stoppable), so the runner does not spin.
      await this.pause(options.signal);
      return [];
    }
    const signal = options.signal ? AbortSignal.any([options.signal, this.claims.signal]) : this.claims.signal;
    return this.worker(() => inner.claimBatch({ ...options, signal }, max));
  }

  renew(lease: Lease, leaseMs: number): Promise<RenewResult> {
    return this.worker((s) => s.renew(lease, leaseMs));
  }

  appendEvents(lease: Lease, events: TaskEventInput[]): Promise<boolean> {
    return this.worker((s) => s.appendEvents(lease, events));
  }

  checkpoint(lease: Lease, checkpoint: Checkpoint, events?: TaskEventInput[]): Promise<boolean> {
    return this.worker((s) => s.checkpoint(lease, checkpoint, events));
  }

  interrupt(lease: Lease, stop: TaskInterrupt & { checkpoint: Checkpoint }): Promise<TransitionOutcome> {
    return this.worker((s) => s.interrupt(lease, stop));
  }

  complete(lease: Lease, result: unknown, resultJson?: string): Promise<TransitionOutcome> {
    return this.worker((s) => s.complete(lease, result, resultJson));
  }

  fail(lease: Lease, error: TaskError & { node?: string }): Promise<TransitionOutcome> {
    return this.worker((s) => s.fail(lease, error));
  }

  retry(lease: Lease, retry: { error: TaskError; delayMs: number }): Promise<TransitionOutcome> {
    return this.worker((s) => s.retry(lease, retry));
  }

  release(lease: Lease, reason?: TaskError): Promise<TransitionOutcome> {
    return this.worker((s) => s.release(lease, reason));
  }

  /** Housekeeping waits while the store is down. */
  async sweep(): Promise<SweepReport> {
    if (this.options.health.isDown("tasks")) return { requeued: 0, ended: 0 };
    return this.worker((s) => s.sweep());
  }

  async prune(): Promise<number> {
    if (this.options.health.isDown("tasks")) return 0;
    return this.worker((s) => s.prune());
  }

  // #endregion
  // #region webhook outbox: the deliverer idles while the store is down (its messages wait in the store)

  async claimWebhooks(max: number, leaseMs: number): Promise<WebhookClaim> {
    if (this.options.health.isDown("tasks") || this.usable() === undefined) return { deliveries: [], nextDueIn: null };
    return this.worker((s) => s.claimWebhooks(max, leaseMs));
  }

  settleWebhook(delivery: WebhookDelivery, settlement: WebhookSettlement): Promise<boolean> {
    return this.worker((s) => s.settleWebhook(delivery, settlement));
  }

  /** Wake-ups of the store open now (a store opened later is polled: hints are only hints). */
  onWebhooks(listener: () => void): () => void {
    return this.inner?.onWebhooks(listener) ?? (() => undefined);
  }

  webhookMessages(taskId: string): Promise<WebhookOutboxEntry[]> {
    return this.api((s) => s.webhookMessages(taskId));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.claims.abort();
    await this.inner?.close();
  }

  // #endregion
  // #region internals

  /** The inner store if it may be used at all (open, and its file still the one at the path). */
  private usable(): ProbedTaskStore | undefined {
    return this.detached ? undefined : this.inner;
  }

  /** The inner store for an API call: refused while down. */
  private available(): ProbedTaskStore {
    const status = this.options.health.status("tasks");
    const inner = this.usable();
    if (inner === undefined || status?.status === "down") throw new StoreUnavailableError("tasks", this.backend, status?.reason ?? "it is not open");
    return inner;
  }

  private async api<T>(call: (store: ProbedTaskStore) => Promise<T>): Promise<T> {
    const inner = this.available();
    try {
      return await call(inner);
    } catch (error) {
      if (!isStoreFault(error)) throw error;
      const reason = publicReason(error, this.backend);
      if (marksStoreDown(error)) this.options.health.markDown("tasks", reason, error);
      throw error instanceof StoreUnavailableError ? error : new StoreUnavailableError("tasks", this.backend, reason, { cause: error });
    }
  }

  private async worker<T>(call: (store: ProbedTaskStore) => Promise<T>): Promise<T> {
    const inner = this.usable();
    if (inner === undefined) throw new StoreUnavailableError("tasks", this.backend, this.options.health.status("tasks")?.reason ?? "it is not open");
    try {
      return await call(inner);
    } catch (error) {
      if (marksStoreDown(error)) this.options.health.markDown("tasks", publicReason(error, this.backend), error);
      throw error;
    }
  }

  private detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.claims.abort();
    this.claims = new AbortController();
  }

  private pause(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, this.probeEveryMs);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  // #endregion
}

/** Why a store could not be opened, for callers and `/ready` (no paths). */
function openReason(error: unknown, backend: string): string {
  let cause = error;
  // The open wraps the engine's error (once or twice) in KG_STORE_UNAVAILABLE: the engine's says what happened.
  while (KaygraphError.is(cause) && cause.code === Errors.StoreUnavailable.code && cause.cause !== undefined) cause = cause.cause;
  if ((cause as { code?: unknown })?.code === "SQLITE_CANTOPEN") return "the database file does not exist or cannot be opened (a process joining the service never creates it); trying again every second";
  return `it could not be opened (${publicReason(cause, backend)}); trying again every second`;
}
