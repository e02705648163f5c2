/**
 * The embedded task store: one SQLite file (better-sqlite3, WAL) shared by every process on the machine.
 * Every write runs in a `BEGIN IMMEDIATE` transaction, so concurrent processes serialise on the database lock
 * (claims, idempotency keys) instead of racing; the writes of one event-loop turn share one transaction
 * ({@link GroupCommit}) and are acknowledged only after it committed. Cross-process wake-ups use the UDP doorbell.
 */
import { randomUUID } from "node:crypto";
import type Database from "better-sqlite3";
import { Doorbell } from "./doorbell.js";
import { GroupCommit } from "./sqlite-group-commit.js";
import { WalCheckpointer, type WalCheckpointerOptions } from "./sqlite-wal-checkpointer.js";
import { EventFeed } from "./event-feed.js";
import { IdempotencyMismatchError, TaskConflictError } from "./errors.js";
import { LeaseRegistry } from "./lease-registry.js";
import { fileIdentity, identityChange, StoreIdentityError, type FileIdentity } from "./sqlite-identity.js";
import { openTaskDatabase, rowToClaimed, rowToRecord, SELECT_FENCE_ROW, Statements, type FenceRow, type TaskRow } from "./sqlite-schema.js";
import { appendEvents, finish, insertEvents, finishCancelled, recoverLost, toInterrupted, toPending, toResumed } from "./sqlite-transitions.js";
import { RELEASED } from "./task-messages.js";
import { claimOutbox, enqueueWebhooks, nextOutboxDueIn, outboxOf, pruneOutbox, settleOutbox, takeOutboxWrites } from "./sqlite-outbox.js";
import { encodeCursor, pendingRecord, resolveListQuery, resolveSubmit, resumeFingerprint } from "./submit-input.js";
import type { Checkpoint } from "../graph/interrupt.js";
import { checkpointText } from "../graph/checkpoint.js";
import type {
  ClaimOptions, Lease, ListTasksQuery, OwnerScope, RenewResult, SubmitResult, SubmitTaskInput, SweepReport, TaskError,
  TaskEvent, TaskEventInput, TaskEventListener, TaskInterrupt, TaskPage, TaskRecord, TaskStore, TaskStoreSettings, TransitionOutcome,
  WebhookClaim, WebhookDelivery, WebhookOutboxEntry, WebhookSettlement,
} from "./types.js";
import { DEFAULT_INTERRUPTED_RETENTION_MS, isTerminalStatus } from "./types.js";

/** Options of {@link SqliteTaskStore.open}. */
export interface SqliteTaskStoreOptions extends TaskStoreSettings {
  /** Database file, e.g. `<project>/.kaygraph/kaygraph.db`. */
  file: string;
  /** Open only an existing file, never create one (processes that join a running service). */
  mustExist?: boolean;
  /** When the WAL checkpointer thread starts and how often it runs (see {@link WalCheckpointer}). */
  walCheckpointer?: Pick<WalCheckpointerOptions, "startAfterCommits" | "intervalMs">;
}


const visible = (row: TaskRow | undefined, scope: OwnerScope | undefined): row is TaskRow =>
  row !== undefined && (scope?.owner === undefined || row.owner === scope.owner);

/** A claimer waiting for a ring (see SqliteTaskStore.waitingClaim). */
interface WaitingClaim {
  readonly leaseMs: number;
  readonly max: number;
  /** Set once a submit queued the claim: the wait then ends with its rows, and nothing else ends it. */
  claim: Promise<TaskRow[]> | undefined;
  /** Ends the wait; with rows when the queued claim committed. */
  readonly done: (rows?: TaskRow[]) => void;
}

/** A lease's row and the last event seq it has written (undefined: not known, read it from the row). */
interface RunCursor {
  readonly pos: number;
  seq: number | undefined;
}

// The writes during a run (see SqliteTaskStore.runWrite): by the row's key, with the seqs the lease expects…
const FENCE_AT = "WHERE pos = ? AND status = 'running' AND lease_token = ? AND event_seq = ?";
const SET_SEQ = `UPDATE kg_tasks SET event_seq = ? ${FENCE_AT}`;
const SET_SEQ_CHECKPOINT = `UPDATE kg_tasks SET checkpoint = ?, event_seq = ? ${FENCE_AT}`;
// …or by id, taking the seqs from the row.
const FENCE = "WHERE id = ? AND status = 'running' AND lease_token = ? RETURNING pos, event_seq";
const ADD_SEQ = `UPDATE kg_tasks SET event_seq = event_seq + ? ${FENCE}`;
const ADD_SEQ_CHECKPOINT = `UPDATE kg_tasks SET checkpoint = ?, event_seq = event_seq + ? ${FENCE}`;

/**
 * The embedded backend of {@link TaskStore}.
 *
 * @example
 * const store = SqliteTaskStore.open({ file: ".kaygraph/kaygraph.db", maxLost: 3, retentionMs: 6048e5, maxRetained: 1e5, idempotencyTtlMs: 864e5 });
 * const { task } = await store.submit({ graph: "hello", version: 1, input: { name: "Ada" } });
 */
export class SqliteTaskStore implements TaskStore {
  readonly backend = "sqlite";
  private readonly sql: Statements;
  private readonly writes: GroupCommit;
  private readonly bell: Doorbell;
  private readonly leases = new LeaseRegistry();
  private readonly pollMs: number;
  private readonly onError: (error: unknown) => void;
  /** Bumped by every "task" ring, so a claim never sleeps through one that arrived while it was looking. */
  private taskRings = 0;
  /**
   * Tasks this process's own claimer will take without help: its free slots while it waits for a ring (0 when
   * it is not waiting). A submit made here while there is room rings only this process, so the other
   * processes do not all wake and race for a task this one claims anyway (see {@link ringTask}).
   */
  private claimRoom = 0;
  /**
   * This process's claimer while it waits for a ring: a submit made here then queues the claim itself, last in
   * the submit's group commit (see {@link claimWithSubmits}), and the claimer gets that claim's rows.
   */
  private waitingClaim: WaitingClaim | undefined;
  private readonly offTaskRing: () => void;
  /** Live subscriptions, ended by close(). */
  private readonly feeds = new Set<EventFeed>();
  /** Aborted by close(), so waiting claims return at once. */
  private readonly closing = new AbortController();
  private readonly offCancelRing: () => void;
  /** Where each lease claimed here writes during its run (see {@link runWrite}). */
  private readonly cursors = new WeakMap<Lease, RunCursor>();
  /** Runs WAL checkpoints on a thread once the store is busy (none for an in-memory database). */
  private readonly wal: WalCheckpointer | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly settings: SqliteTaskStoreOptions,
    /** The file this store opened (see {@link probe}); undefined for an in-memory database. */
    private readonly identity: FileIdentity | undefined,
  ) {
    this.sql = new Statements(db);
    this.writes = new GroupCommit(db);
    this.pollMs = settings.pollMs ?? 1000;
    this.onError = settings.onError ?? ((error) => process.emitWarning(`kaygraph task store: ${error instanceof Error ? error.message : String(error)}`, { code: "KG_TASK_STORE" }));
    this.bell = new Doorbell(this.sql, this.onError);
    this.offTaskRing = this.bell.on("task", () => {
      this.taskRings++;
    });
    this.offCancelRing = this.bell.on("cancel", (id) => this.leases.cancelRequested(id));
    if (identity !== undefined) this.wal = new WalCheckpointer(db, settings.file, { onError: this.onError, ...settings.walCheckpointer });
    // Every ring follows the commit of what it tells of, so the doorbell sends to the ports read inside the last
    // group transaction instead of reading them again (see Doorbell.portsCommitted).
    const readPorts = this.sql.prepare("SELECT port FROM kg_doorbells").pluck();
    let ports: number[] | undefined;
    this.writes.beforeCommit = () => {
      try {
        ports = readPorts.all() as number[];
      } catch {
        ports = undefined; // the doorbell reads them itself
      }
    };
    this.writes.afterCommit = () => {
      this.bell.portsCommitted(ports);
      this.wal?.committed();
    };
  }

  /** Opens (creating if needed, unless `mustExist`) the database file and records which file it is. */
  static open(options: SqliteTaskStoreOptions): SqliteTaskStore {
    const db = openTaskDatabase(options.file, { mustExist: options.mustExist ?? false });
    return new SqliteTaskStore(db, options, fileIdentity(options.file));
  }

  /**
   * A cheap health check: the database answers (`SELECT 1`) and the file at the path is still the one this
   * store opened. Throws {@link StoreIdentityError} when it was deleted, moved or replaced.
   */
  async probe(): Promise<void> {
    this.sql.prepare("SELECT 1").get();
    if (this.identity === undefined) return;
    const change = identityChange(this.identity, fileIdentity(this.settings.file));
    if (change !== undefined) throw new StoreIdentityError(change, this.settings.file);
  }

  // #region API side

  async submit(raw: SubmitTaskInput): Promise<SubmitResult> {
    const s = resolveSubmit(raw);
    const scope = s.owner ?? "";
    const submitted = this.writes.run((): SubmitResult => {
      const now = Date.now();
      if (s.idempotencyKey !== undefined) {
        const key = this.sql.prepare("SELECT fingerprint, task_id FROM kg_idempotency WHERE scope = ? AND key = ? AND expires_at > ?").get(scope, s.idempotencyKey, now) as { fingerprint: string; task_id: string } | undefined;
        const existing = key && this.sql.task(key.task_id);
        if (key && existing) {
          if (key.fingerprint !== s.fingerprint) throw new IdempotencyMismatchError(existing.id);
          return { task: rowToRecord(existing), replayed: true };
        }
      }
      const id = randomUUID();
      // No RETURNING: the new row's record is known without reading it back (the copy of its input would be garbage).
      const pos = this.sql
        .prepare("INSERT INTO kg_tasks (id, graph, version, status, input, request_id, owner, created_at, max_attempts, backoff_ms, timeout_ms, available_at, trace_context, webhooks) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(id, s.graph, s.version, s.inputJson, s.requestId, s.owner, now, s.maxAttempts, s.backoffMs, s.timeoutMs, now, s.traceJson, s.webhooksJson).lastInsertRowid;
      let task: TaskRecord = pendingRecord(id, s, now);
      if (s.interrupted !== undefined) {
        // A sync or streaming run that interrupted: stored as its first attempt, already interrupted.
        const row = this.sql
          .prepare("UPDATE kg_tasks SET status = 'interrupted', attempts = 1, started_at = ?, interrupt = ?, checkpoint = ?, interrupted_at = ? WHERE pos = ? RETURNING *")
          .get(now, s.interrupted.interruptJson, s.interrupted.checkpointJson, now, pos) as TaskRow;
        appendEvents(this.sql, row, [{ type: "interrupt", ts: now, node: s.interrupted.node, value: s.interrupted.value, task_id: id }]);
        enqueueWebhooks(this.sql, row, "task.interrupted", now);
        task = rowToRecord(row);
      }
      if (s.idempotencyKey !== undefined) {
        this.sql
          .prepare("INSERT INTO kg_idempotency (scope, key, fingerprint, task_id, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, task_id = excluded.task_id, expires_at = excluded.expires_at")
          .run(scope, s.idempotencyKey, s.fingerprint, id, now + this.settings.idempotencyTtlMs);
      }
      return { task, replayed: false };
    });
    // Queued after the submit's write (same tick): a waiting claimer here takes the task in the same commit.
    const claimed = s.interrupted === undefined && this.claimWithSubmits();
    const result = await submitted;
    if (!result.replayed && result.task.status === "pending" && !claimed) this.ringTask();
    this.ringWebhooks();
    return result;
  }

  async get(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined> {
    const row = this.sql.task(id);
    return visible(row, scope) ? rowToRecord(row) : undefined;
  }

  async list(query?: ListTasksQuery): Promise<TaskPage> {
    const q = resolveListQuery(query);
    const filters: [string, unknown][] = [];
    if (q.status !== undefined) filters.push(["status = ?", q.status]);
    if (q.graph !== undefined) filters.push(["graph = ?", q.graph]);
    if (q.owner !== undefined) filters.push(["owner IS ?", q.owner]);
    if (q.before !== undefined) filters.push(["pos < ?", q.before]);
    const where = filters.map(([clause]) => clause);
    const params = filters.map(([, value]) => value);
    const sql = `SELECT * FROM kg_tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY pos DESC LIMIT ?`;
    const rows = this.sql.prepare(sql).all(...params, q.limit + 1) as TaskRow[];
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return { tasks: page.map(rowToRecord), next_cursor: rows.length > q.limit && last ? encodeCursor(last.pos) : null };
  }

  async cancel(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined> {
    const outcome = await this.writes.run(() => {
      const row = this.sql.task(id);
      if (!visible(row, scope)) return undefined;
      if (isTerminalStatus(row.status)) throw new TaskConflictError(id, row.status);
      // Cancelled at once, running or not (pending and interrupted tasks hold no lease): ending the task clears its lease token, which fences the attempt
      // still running (its late result and events are refused); the cancel ring fires that attempt's signal.
      finishCancelled(this.sql, row, Date.now());
      // The cancelled attempt's token stays on the (terminal) row, so that attempt is told "cancelled", not "lost".
      if (row.status === "running") this.sql.prepare("UPDATE kg_tasks SET cancel_requested = 1, lease_token = ? WHERE pos = ?").run(row.lease_token, row.pos);
      return row.status;
    });
    this.ringWebhooks();
    if (outcome === undefined) return undefined;
    this.bell.ring("event", id);
    if (outcome === "running") this.bell.ring("cancel", id);
    return rowToRecord(this.sql.task(id) as TaskRow);
  }

  async resume(id: string, value: unknown, options: OwnerScope & { idempotencyKey?: string } = {}): Promise<SubmitResult | undefined> {
    const scope = `resume:${options.owner ?? ""}`;
    const key = options.idempotencyKey;
    const fingerprint = resumeFingerprint(id, value);
    const result = await this.writes.run((): SubmitResult | undefined => {
      const now = Date.now();
      if (key !== undefined) {
        const used = this.sql.prepare("SELECT fingerprint, task_id FROM kg_idempotency WHERE scope = ? AND key = ? AND expires_at > ?").get(scope, key, now) as { fingerprint: string; task_id: string } | undefined;
        if (used !== undefined) {
          if (used.fingerprint !== fingerprint) throw new IdempotencyMismatchError(used.task_id);
          const row = this.sql.task(id);
          if (visible(row, options)) return { task: rowToRecord(row), replayed: true };
        }
      }
      const row = this.sql.task(id);
      if (!visible(row, options)) return undefined;
      if (row.status !== "interrupted") throw new TaskConflictError(id, row.status, `Task ${id} is ${row.status}, not interrupted; only an interrupted task can be resumed.`);
      toResumed(this.sql, row, now, value);
      if (key !== undefined) {
        this.sql
          .prepare("INSERT INTO kg_idempotency (scope, key, fingerprint, task_id, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, task_id = excluded.task_id, expires_at = excluded.expires_at")
          .run(scope, key, fingerprint, id, now + this.settings.idempotencyTtlMs);
      }
      return { task: rowToRecord(this.sql.task(id) as TaskRow), replayed: false };
    });
    if (result !== undefined && !result.replayed) this.ringTask();
    return result;
  }

  async state(id: string, scope?: OwnerScope): Promise<Checkpoint | null | undefined> {
    const row = this.sql.task(id);
    if (!visible(row, scope)) return undefined;
    return row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as Checkpoint);
  }

  async events(id: string, afterSeq = 0, limit = -1): Promise<TaskEvent[]> {
    // LIMIT -1 is SQLite for "no limit".
    const rows = this.sql.prepare("SELECT body FROM kg_task_events WHERE task_pos = (SELECT pos FROM kg_tasks WHERE id = ?) AND seq > ? ORDER BY seq LIMIT ?").all(id, afterSeq, limit) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as TaskEvent);
  }

  subscribe(id: string, afterSeq: number, listener: TaskEventListener): () => void {
    let off = (): void => undefined;
    const feed: EventFeed = new EventFeed(afterSeq, listener, {
      read: (seq, limit) => this.events(id, seq, limit),
      pollMs: this.pollMs,
      onError: this.onError,
      onClose: () => {
        off();
        this.feeds.delete(feed);
      },
    });
    this.feeds.add(feed);
    off = this.bell.on("event", () => feed.hint(), id);
    void this.bell.ready().then(() => feed.start());
    return () => feed.close();
  }

  // #endregion
  // #region worker side

  async claim(options: ClaimOptions): Promise<Lease | undefined> {
    return (await this.claimBatch(options, 1))[0];
  }

  async claimBatch(options: ClaimOptions, max: number): Promise<Lease[]> {
    const { signal } = options;
    await this.bell.ready();
    while (!signal?.aborted && this.db.open) {
      const seen = this.taskRings;
      // A plain read first: idle runners must not take the write lock every poll.
      const next = (this.sql.prepare("SELECT MIN(available_at) AS at FROM kg_tasks INDEXED BY kg_tasks_pending WHERE status = 'pending'").get() as { at: number | null }).at;
      const now = Date.now();
      if (next !== null && next <= now) {
        const rows = await this.writes.run(() => this.claimRows(options.leaseMs, max));
        // Listen for cancels before handing the leases out, so none is missed.
        if (rows.length > 0) return rows.map((row) => this.hold(row));
        continue; // another process won those tasks; look again
      }
      const waitMs = next === null ? this.pollMs : Math.min(this.pollMs, next - now);
      if (this.taskRings === seen) {
        const rows = await this.waitForRing(waitMs, signal, max, options.leaseMs);
        if (rows.length > 0) return rows.map((row) => this.hold(row));
      }
    }
    return [];
  }

  async renew(lease: Lease, leaseMs: number): Promise<RenewResult> {
    const renewed = await this.writes.run(
      () => this.sql.prepare("UPDATE kg_tasks SET lease_expires_at = ? WHERE id = ? AND status = 'running' AND lease_token = ? RETURNING cancel_requested").get(Date.now() + leaseMs, lease.task.id, lease.token) as { cancel_requested: number } | undefined,
    );
    if (renewed === undefined) {
      if (this.cancelledUnder(lease)) return { ok: true, cancelRequested: true };
      this.leases.drop(lease);
      return { ok: false, cancelRequested: false };
    }
    const cancelRequested = Boolean(renewed.cancel_requested);
    if (cancelRequested) this.leases.cancelRequested(lease.task.id);
    return { ok: true, cancelRequested };
  }

  async appendEvents(lease: Lease, events: TaskEventInput[]): Promise<boolean> {
    if (events.length === 0) return true;
    const write = this.runWrite(lease, events, undefined);
    const ok = await this.writes.run(write);
    if (ok) this.bell.ring("event", lease.task.id);
    return ok;
  }

  checkpoint(lease: Lease, checkpoint: Checkpoint, events: TaskEventInput[] = []): Promise<boolean> {
    // Not async: one promise hop less per node of a durable run (the write is queued in this call either way).
    let write: () => boolean;
    try {
      write = this.runWrite(lease, events, checkpointText(checkpoint));
    } catch (error) {
      return Promise.reject(error);
    }
    if (events.length === 0) return this.writes.run(write);
    return this.writes.run(write).then((stored) => {
      if (stored) this.bell.ring("event", lease.task.id);
      return stored;
    });
  }

  async interrupt(lease: Lease, stop: TaskInterrupt & { checkpoint: Checkpoint }): Promise<TransitionOutcome> {
    return this.end(lease, false, (row, now) => toInterrupted(this.sql, row, now, stop));
  }

  async complete(lease: Lease, result: unknown, resultJson?: string): Promise<TransitionOutcome> {
    const json = resultJson ?? JSON.stringify(result ?? null);
    return this.end(lease, false, (row, now) => finish(this.sql, row, now, { status: "completed", result, resultJson: json }));
  }

  async fail(lease: Lease, error: TaskError & { node?: string }): Promise<TransitionOutcome> {
    const { node, ...taskError } = error;
    return this.end(lease, false, (row, now) => finish(this.sql, row, now, { status: "failed", error: taskError, ...(node !== undefined && { node }) }));
  }

  async retry(lease: Lease, retry: { error: TaskError; delayMs: number }): Promise<TransitionOutcome> {
    return this.end(lease, true, (row, now) => {
      appendEvents(this.sql, row, [{ type: "retry", ts: now, attempt: row.attempts, error: retry.error.message, error_code: retry.error.error_code, delay_ms: retry.delayMs }]);
      toPending(this.sql, row, { availableAt: now + retry.delayMs });
    });
  }

  async release(lease: Lease, reason: TaskError = RELEASED): Promise<TransitionOutcome> {
    return this.end(lease, true, (row, now) => {
      appendEvents(this.sql, row, [{ type: "retry", ts: now, attempt: row.attempts, error: reason.message, error_code: reason.error_code, delay_ms: 0 }]);
      toPending(this.sql, row, { availableAt: now, attempts: row.attempts - 1 });
    });
  }

  async sweep(): Promise<SweepReport> {
    const report = await this.writes.run((): SweepReport & { ids: string[] } => {
      const now = Date.now();
      const rows = this.sql.prepare("SELECT * FROM kg_tasks INDEXED BY kg_tasks_running WHERE status = 'running' AND lease_expires_at < ?").all(now) as TaskRow[];
      const out = { requeued: 0, ended: 0, ids: rows.map((r) => r.id) };
      for (const row of rows) out[recoverLost(this.sql, row, now, this.settings.maxLost)]++;
      return out;
    });
    for (const id of report.ids) this.bell.ring("event", id);
    if (report.requeued > 0) this.bell.ring("task");
    this.ringWebhooks();
    return { requeued: report.requeued, ended: report.ended };
  }

  async prune(): Promise<number> {
    return this.writes.run(() => {
      const now = Date.now();
      // Events go with their task (ON DELETE CASCADE).
      const old = this.sql.prepare("DELETE FROM kg_tasks WHERE completed_at IS NOT NULL AND completed_at < ?").run(now - this.settings.retentionMs).changes;
      // Interrupted tasks wait for a person: their own (longer) retention, counted from the interrupt.
      const stale = this.sql.prepare("DELETE FROM kg_tasks WHERE status = 'interrupted' AND interrupted_at < ?").run(now - (this.settings.interruptedRetentionMs ?? DEFAULT_INTERRUPTED_RETENTION_MS)).changes;
      const excess = this.sql
        .prepare("DELETE FROM kg_tasks WHERE pos IN (SELECT pos FROM kg_tasks WHERE completed_at IS NOT NULL ORDER BY completed_at DESC, pos DESC LIMIT -1 OFFSET ?)")
        .run(this.settings.maxRetained).changes;
      this.sql.prepare("DELETE FROM kg_idempotency WHERE expires_at <= ?").run(now);
      pruneOutbox(this.sql, now - this.settings.retentionMs);
      return old + excess + stale;
    });
  }

  async claimWebhooks(max: number, leaseMs: number): Promise<WebhookClaim> {
    // A plain read first: idle deliverers must not take the write lock every poll.
    const due = nextOutboxDueIn(this.sql);
    if (due === null || due > 0 || !this.db.open) return { deliveries: [], nextDueIn: due };
    return this.writes.run(() => ({ deliveries: claimOutbox(this.sql, max, leaseMs), nextDueIn: nextOutboxDueIn(this.sql) }));
  }

  async settleWebhook(delivery: WebhookDelivery, settlement: WebhookSettlement): Promise<boolean> {
    return this.writes.run(() => settleOutbox(this.sql, delivery, settlement));
  }

  onWebhooks(listener: () => void): () => void {
    return this.bell.on("webhook", listener);
  }

  async webhookMessages(taskId: string): Promise<WebhookOutboxEntry[]> {
    return outboxOf(this.sql, taskId);
  }

  /** Closes the database and the doorbell. Idempotent. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    this.closing.abort();
    for (const feed of [...this.feeds]) feed.close();
    this.offTaskRing();
    this.offCancelRing();
    // What is queued still commits (and its callers hear so) before the file closes.
    this.writes.flush({ wait: true });
    await this.bell.close();
    // The thread's connection closes first, so this last connection's close folds the WAL into the file.
    await this.wal?.stop();
    this.db.close();
  }

  // #endregion
  // #region internals

  /** Wakes deliverers (in every process) when the transactions just committed wrote webhook messages. */
  private ringWebhooks(): void {
    if (takeOutboxWrites(this.sql)) this.bell.ring("webhook");
  }

  /** Claims up to `max` runnable tasks, oldest first (inside a group transaction); returns their rows. */
  private claimRows(leaseMs: number, max: number): TaskRow[] {
    const now = Date.now();
    const positions = this.sql.prepare("SELECT pos FROM kg_tasks INDEXED BY kg_tasks_pending WHERE status = 'pending' AND available_at <= ? ORDER BY available_at, pos LIMIT ?").pluck().all(now, max) as number[];
    const claim = this.sql.prepare("UPDATE kg_tasks SET status = 'running', attempts = attempts + 1, started_at = COALESCE(started_at, ?), lease_token = ?, lease_expires_at = ? WHERE pos = ? RETURNING *");
    return positions.map((pos) => claim.get(now, randomUUID(), now + leaseMs, pos) as TaskRow);
  }

  /**
   * A transition: runs `change` on the task's {@link FenceRow} in a (group) transaction if the lease still
   * holds; "fenced" otherwise. Writes during a run (events, checkpoints) use {@link runWrite}, which reads no row.
   */
  private fenced<T>(lease: Lease, change: (row: FenceRow, now: number) => T): Promise<T | "fenced"> {
    return this.writes.run(() => {
      const row = this.sql.prepare(SELECT_FENCE_ROW).get(lease.task.id) as FenceRow | undefined;
      if (row === undefined || row.status !== "running" || row.lease_token !== lease.token) return "fenced" as const;
      return change(row, Date.now());
    });
  }

  /** Registers a claimed row's lease, with where its run's writes go. */
  private hold(row: TaskRow): Lease {
    const lease = this.leases.hold(rowToClaimed(row), row.lease_token as string);
    this.cursors.set(lease, { pos: row.pos, seq: row.event_seq });
    return lease;
  }

  /**
   * A write during a run, to run inside a group transaction: one UPDATE fences the lease, moves `event_seq` past
   * the events and stores the checkpoint if there is one (it reads none of the row's growing columns), then the
   * events go in. Returns false when the lease no longer holds.
   *
   * A lease claimed here knows its row's `pos` and the task's last event seq (only its holder adds events while
   * it holds): the seqs are taken now, in call order, which is the order the writes commit in, so the UPDATE
   * needs no RETURNING and finds the row by its integer key. It also checks `event_seq` is what the lease
   * expects; if not (an earlier write of the lease failed), it takes the seqs from the row as any other lease
   * does, and the lease stops guessing.
   */
  private runWrite(lease: Lease, events: readonly TaskEventInput[], checkpointJson: string | undefined): () => boolean {
    const cursor = this.cursors.get(lease);
    const first = cursor?.seq;
    if (cursor === undefined || first === undefined) return () => this.runWriteReturning(lease, events, checkpointJson, cursor);
    const last = first + events.length;
    cursor.seq = last;
    const { pos } = cursor;
    return () => {
      const changed =
        checkpointJson === undefined
          ? this.sql.prepare(SET_SEQ).run(last, pos, lease.token, first).changes
          : this.sql.prepare(SET_SEQ_CHECKPOINT).run(checkpointJson, last, pos, lease.token, first).changes;
      if (changed === 0) return this.runWriteReturning(lease, events, checkpointJson, cursor);
      insertEvents(this.sql, pos, first, events);
      return true;
    };
  }

  /** {@link runWrite} taking the seqs from the row (RETURNING); `cursor` (if any) stops guessing them. */
  private runWriteReturning(lease: Lease, events: readonly TaskEventInput[], checkpointJson: string | undefined, cursor: RunCursor | undefined): boolean {
    const row = (
      checkpointJson === undefined
        ? this.sql.prepare(ADD_SEQ).get(events.length, lease.task.id, lease.token)
        : this.sql.prepare(ADD_SEQ_CHECKPOINT).get(checkpointJson, events.length, lease.task.id, lease.token)
    ) as { pos: number; event_seq: number } | undefined;
    if (row === undefined) return false;
    // Setting it (not counting) is the same if the group runs this write again.
    if (cursor !== undefined) cursor.seq = undefined;
    insertEvents(this.sql, row.pos, row.event_seq - events.length, events);
    return true;
  }

  /** Was the task cancelled while `lease`'s attempt ran (cancel ends it at once and fences that attempt)? */
  private cancelledUnder(lease: Lease): boolean {
    const row = this.sql.task(lease.task.id);
    return row !== undefined && row.status === "cancelled" && row.lease_token === lease.token;
  }

  /** A transition that ends the lease; a requested cancel turns it into `cancelled`. `requeues`: it may go back to pending. */
  private async end(lease: Lease, requeues: boolean, change: (row: FenceRow, now: number) => void): Promise<TransitionOutcome> {
    const outcome = await this.fenced(lease, (row, now): TransitionOutcome => {
      if (row.cancel_requested) {
        finishCancelled(this.sql, row, now);
        return "cancelled";
      }
      change(row, now);
      return "ok";
    });
    const ended = outcome === "fenced" && this.cancelledUnder(lease) ? "cancelled" : outcome;
    this.leases.drop(lease);
    this.ringWebhooks();
    if (ended !== outcome) return ended;
    if (outcome !== "fenced") this.bell.ring("event", lease.task.id);
    if (outcome === "ok" && requeues) this.bell.ring("task");
    return outcome;
  }

  /**
   * A new pending task (submitted or resumed here): if this process's claimer waits with room, only it is
   * rung; it claims every task pending once it wakes, and takes those committed after its claim on its next
   * one (it still had room for them). Otherwise every process is rung, as for any other change.
   */
  private ringTask(): void {
    if (this.claimRoom > 0) {
      this.claimRoom--;
      this.bell.ring("task", "", { here: true });
    } else this.bell.ring("task");
  }

  /**
   * Called as a submit's write is queued: if this process's claimer waits with room, the claim goes into the
   * same group commit, after every write of the group (so after this submit's insert, and after the other
   * submits of the group). The task is then created and claimed in one transaction: no ring, no second commit,
   * no turns of the event loop in between. Each submit takes one slot of the claimer's room, as a ring here
   * would ({@link ringTask}); true when this submit's task is covered by the claim (it needs no ring).
   */
  private claimWithSubmits(): boolean {
    const waiting = this.waitingClaim;
    if (waiting === undefined || this.claimRoom <= 0) return false;
    this.claimRoom--;
    if (waiting.claim !== undefined) return true;
    const claim = this.writes.runLast(() => this.claimRows(waiting.leaseMs, waiting.max));
    waiting.claim = claim;
    // A failed claim ends the wait empty: the claimer looks again (as after a ring) and meets the error itself.
    claim.then(
      (rows) => waiting.done(rows),
      () => waiting.done(),
    );
    return true;
  }

  /**
   * Waits for a "task" ring or `ms`; `room`: the claim's free slots meanwhile (see {@link claimRoom}). Resolves
   * with the rows of a claim a submit made meanwhile (see {@link claimWithSubmits}), else with none.
   */
  private waitForRing(ms: number, signal: AbortSignal | undefined, room: number, leaseMs: number): Promise<TaskRow[]> {
    this.claimRoom = room;
    return new Promise((resolve) => {
      const end = (rows: TaskRow[] = []): void => {
        this.claimRoom = 0;
        this.waitingClaim = undefined;
        clearTimeout(timer);
        off();
        signal?.removeEventListener("abort", wake);
        this.closing.signal.removeEventListener("abort", wake);
        resolve(rows);
      };
      const waiting: WaitingClaim = { leaseMs, max: room, claim: undefined, done: end };
      // Once a submit queued the claim, only its outcome ends the wait (it commits on the next turn, or at close):
      // the claimer must not claim again meanwhile, and a stopping runner hands the claimed leases back.
      const wake = (): void => {
        if (waiting.claim === undefined) end();
      };
      this.waitingClaim = waiting;
      const timer = setTimeout(wake, ms);
      const off = this.bell.on("task", wake);
      signal?.addEventListener("abort", wake, { once: true });
      this.closing.signal.addEventListener("abort", wake, { once: true });
    });
  }

  // #endregion
}
