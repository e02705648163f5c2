/**
 * The durable background-task model shared by both backends (SQLite and BullMQ on Redis) and the runner.
 * `TaskRecord` is the public JSON of DESIGN.md section 5; everything a worker needs besides it (the input,
 * retry policy, lease) lives on {@link ClaimedTask} and {@link Lease}, never in the public record.
 */
import type { RunEvent } from "../graph/events.js";
import type { Checkpoint } from "../graph/interrupt.js";
import type { WebhookEventType } from "../config/webhooks.js";

/**
 * `pending → running → (interrupted → pending → running →)* completed | failed | cancelled`; terminal states
 * never change. `interrupted` is not terminal: it holds no lease and waits for a resume (or a cancel).
 */
export type TaskStatus = "pending" | "running" | "interrupted" | "completed" | "failed" | "cancelled";

/** Every status, in lifecycle order. */
export const TASK_STATUSES: readonly TaskStatus[] = ["pending", "running", "interrupted", "completed", "failed", "cancelled"];

/** What an interrupted task waits for: the node that asked, and what it asked. */
export interface TaskInterrupt {
  node: string;
  value: unknown;
}

/**
 * True for `completed`, `failed` and `cancelled`.
 *
 * @example
 * isTerminalStatus("running"); // false
 */
export function isTerminalStatus(status: TaskStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

/** Why a task failed or was cancelled: a stable code (GRAPH_ERROR, TIMEOUT, CANCELLED, WORKER_LOST…) and a message. */
export interface TaskError {
  error_code: string;
  message: string;
}

/**
 * A task as the API returns it (`GET /tasks/{id}`). Timestamps are ISO strings.
 *
 * @example
 * { id: "9b1…", graph: "process", version: 1, status: "completed", created_at: "2026-…Z", started_at: "…",
 *   completed_at: "…", attempts: 1, result: { result: "HI" }, error: null, request_id: "req-1", owner: null }
 */
export interface TaskRecord {
  id: string;
  graph: string;
  version: number;
  status: TaskStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** Claims so far (a graceful hand-back does not count; a lost worker does). */
  attempts: number;
  /** The output, once completed. */
  result: unknown;
  error: TaskError | null;
  request_id: string | null;
  /** Who created it (the JWT `sub` with auth on); scopes visibility and idempotency keys. */
  owner: string | null;
  /** While `interrupted`: the question waiting for a resume value; null otherwise. */
  interrupt: TaskInterrupt | null;
}

/** A task as a worker sees it after a claim: the public record plus what is needed to run it. */
export interface ClaimedTask extends TaskRecord {
  input: unknown;
  /** Attempts allowed for failures of the graph itself (lost workers are counted by `lost`). */
  max_attempts: number;
  /** First retry delay; doubles per failed attempt (plus jitter). */
  backoff_ms: number;
  /** Per-attempt timeout; null = none. */
  timeout_ms: number | null;
  /** Times a worker lost this task (lease expired). */
  lost: number;
  /** The submitting request's W3C trace context, or null. */
  trace_context: Record<string, string> | null;
  /** Times it was resumed after an interrupt (those attempts are not failures). */
  resumes: number;
  /** The latest checkpoint: the run continues there (null: from the start). */
  checkpoint: Checkpoint | null;
}

/** Stored instead of a terminal `error` when a failed (or lost) attempt will be retried. */
export interface RetryEvent {
  type: "retry";
  seq: number;
  ts: number;
  /** The attempt that ended. */
  attempt: number;
  error: string;
  error_code: string;
  /** When the next attempt may start, in ms from `ts`. */
  delay_ms: number;
}

/**
 * A stored task event: the run events of every attempt (renumbered 1, 2, 3… per task, across attempts),
 * `retry` events between attempts, and exactly one terminal `result` or `error` at the end.
 */
export type TaskEvent = RunEvent | RetryEvent;

/** An event to append; the store assigns `seq`. */
export type TaskEventInput = WithoutSeq<TaskEvent>;
type WithoutSeq<E> = E extends unknown ? Omit<E, "seq"> : never;

/** Receives a subscription's events in order. */
export type TaskEventListener = (event: TaskEvent) => void;

/** What `submit` needs. */
export interface SubmitTaskInput {
  graph: string;
  version: number;
  /** JSON-serialisable graph input (validated by the caller). */
  input: unknown;
  owner?: string | null;
  requestId?: string | null;
  /** `Idempotency-Key`, scoped per owner. */
  idempotencyKey?: string;
  /** What makes two requests "the same"; default: a hash of graph, version and input. */
  fingerprint?: string;
  /** Default 1 (no retry). */
  maxAttempts?: number;
  /** Default 1000. */
  backoffMs?: number;
  /** Default: no timeout. */
  timeoutMs?: number | null;
  /** W3C trace context of the submitting request (`traceparent`, `tracestate`): the task's spans join that trace. */
  traceContext?: Record<string, string> | null;
  /** Stores the task already `interrupted` (a sync or streaming run that interrupted becomes a task). */
  interrupted?: TaskInterrupt & { checkpoint: Checkpoint };
  /** Webhook endpoints notified of this task's events (through the outbox, atomically with each transition). */
  webhooks?: TaskWebhook[] | null;
}

/** A webhook endpoint a task notifies: stored with the task (its secret stays in the settings). */
export interface TaskWebhook {
  url: string;
  events: readonly WebhookEventType[];
}

/** One webhook message for one endpoint, claimed from the outbox for a delivery attempt. */
export interface WebhookDelivery {
  /** The outbox entry (one per message and endpoint). */
  readonly key: string;
  /** `webhook-id`: one per event, the same on every attempt and at every endpoint. */
  readonly id: string;
  readonly type: WebhookEventType;
  readonly url: string;
  /** When the event happened (epoch ms). */
  readonly ts: number;
  /** The task record as it was right after the transition. */
  readonly task: TaskRecord;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  /** Fences `settleWebhook`: a delivery whose lease expired (and was claimed again) cannot be settled by its old holder. */
  readonly token: string;
}

/** What {@link TaskStore.claimWebhooks} answers: the messages claimed, and when the next one is due. */
export interface WebhookClaim {
  readonly deliveries: WebhookDelivery[];
  /**
   * Milliseconds until the next pending message is due after this claim (0: now; a claimed one counts from its
   * lease expiry), or null when the outbox has none pending: an idle deliverer's one round trip per poll.
   */
  readonly nextDueIn: number | null;
}

/** How a delivery attempt ended: delivered (the entry is removed), retried later, or given up (kept as failed until pruned). */
export type WebhookSettlement = { outcome: "delivered" } | { outcome: "retry"; delayMs: number; error: string } | { outcome: "failed"; error: string };

/** An outbox entry as {@link TaskStore.webhookMessages} lists it (delivered ones are gone). */
export interface WebhookOutboxEntry {
  id: string;
  type: WebhookEventType;
  url: string;
  status: "pending" | "failed";
  attempts: number;
  last_error: string | null;
}

/** `submit`'s answer: `replayed` is true when an idempotency key returned an existing task. */
export interface SubmitResult {
  task: TaskRecord;
  replayed: boolean;
}

/** Restricts reads and cancels to one owner's tasks (others' are invisible). Leave out for no scoping. */
export interface OwnerScope {
  owner?: string | null;
}

/** `list` filters and paging. */
export interface ListTasksQuery extends OwnerScope {
  status?: TaskStatus;
  graph?: string;
  /** 1–1000, default 20. */
  limit?: number;
  /** `next_cursor` of the previous page. */
  cursor?: string | null;
}

/** One page of tasks, newest first. */
export interface TaskPage {
  tasks: TaskRecord[];
  next_cursor: string | null;
}

/**
 * A claim on a running task. Every write through it is fenced by `token`: once the lease is lost (expired and
 * swept, or handed back) those writes are refused and change nothing.
 */
export interface Lease {
  readonly task: ClaimedTask;
  readonly token: string;
  /** Fires when someone asks to cancel this task (in any process). */
  readonly signal: AbortSignal;
}

/** `renew`'s answer. `ok: false` means the lease is lost: stop working and write nothing. */
export interface RenewResult {
  ok: boolean;
  cancelRequested: boolean;
}

/**
 * How a fenced transition ended: applied; refused because the lease is lost; or turned into `cancelled`
 * because a cancel was requested meanwhile (a requested cancel always wins).
 */
export type TransitionOutcome = "ok" | "fenced" | "cancelled";

/** What a sweep changed. */
export interface SweepReport {
  /** Lost tasks put back to pending. */
  requeued: number;
  /** Lost tasks that ended (WORKER_LOST, or cancelled when a cancel was pending). */
  ended: number;
}

/** Worker-side options of `claim`. */
export interface ClaimOptions {
  leaseMs: number;
  /** Aborting makes a waiting claim resolve `undefined`. */
  signal?: AbortSignal;
}

/**
 * The durable task store. Both backends implement it with the same guarantees (see the conformance suite in
 * test/unit/tasks). Methods never expose the input or lease data through {@link TaskRecord}.
 *
 * @example
 * const { task, replayed } = await store.submit({ graph: "hello", version: 1, input, owner: sub, idempotencyKey });
 * const stop = store.subscribe(task.id, 0, (event) => sse.send(event)); // ends after the terminal event
 * await store.cancel(task.id, { owner: sub }); // 409 when already terminal (TaskConflictError)
 */
export interface TaskStore {
  readonly backend: "sqlite" | "redis";

  /** Stores a pending task, or replays the task of an idempotency key (same owner, key and fingerprint). */
  submit(input: SubmitTaskInput): Promise<SubmitResult>;
  /** The task, or undefined (unknown, pruned, or another owner's). */
  get(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined>;
  /** Tasks newest first, filtered, with an opaque cursor. */
  list(query?: ListTasksQuery): Promise<TaskPage>;
  /**
   * Cancelled at once, pending or running: a running attempt is fenced (its late events and result are
   * discarded, its transitions answer `cancelled`) and its signal fires. Undefined when not found; throws
   * TaskConflictError when terminal.
   */
  cancel(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined>;
  /** Stored events with seq > afterSeq, in order; at most `limit` of them when given. */
  events(id: string, afterSeq?: number, limit?: number): Promise<TaskEvent[]>;
  /** Every event with seq > afterSeq, in order, without gap or duplicate, live across processes; ends after the terminal event. */
  subscribe(id: string, afterSeq: number, listener: TaskEventListener): () => void;

  /**
   * Interrupted → pending with `value` as the answer to its interrupt (appended to the checkpoint's resume
   * values). Undefined when not found; TaskConflictError unless interrupted (a replayed idempotency key
   * answers the task as it is now instead); IdempotencyMismatchError for a key reused with another value.
   */
  resume(id: string, value: unknown, options?: OwnerScope & { idempotencyKey?: string }): Promise<SubmitResult | undefined>;
  /** The latest checkpoint (null: none yet); undefined when the task is not found. */
  state(id: string, scope?: OwnerScope): Promise<Checkpoint | null | undefined>;

  /** Waits for a runnable task and claims it (running, attempts+1, lease); undefined if aborted. */
  claim(options: ClaimOptions): Promise<Lease | undefined>;
  /** Like `claim`, but takes up to `max` runnable tasks at once (at least one unless aborted: then none). */
  claimBatch(options: ClaimOptions, max: number): Promise<Lease[]>;
  renew(lease: Lease, leaseMs: number): Promise<RenewResult>;
  /**
   * Appends run events (seq assigned by the store); false when the lease is lost. Writes through one lease are
   * applied in call order: a transition called right after (without awaiting this) comes after these events.
   */
  appendEvents(lease: Lease, events: TaskEventInput[]): Promise<boolean>;
  /**
   * Stores the run's `events` since its last write (appended as by `appendEvents`) and then its latest checkpoint
   * (replacing the one before), together: one write per node of a durable run. False when the lease is lost.
   */
  checkpoint(lease: Lease, checkpoint: Checkpoint, events?: TaskEventInput[]): Promise<boolean>;
  /** Interrupted, with the interrupt, its checkpoint and an `interrupt` event, atomically; the lease ends. */
  interrupt(lease: Lease, stop: TaskInterrupt & { checkpoint: Checkpoint }): Promise<TransitionOutcome>;
  /**
   * Completed with `result`, plus the terminal `result` event, atomically. `resultJson`: `result` as JSON text,
   * when the caller has it already (the runner checks a result serialises), so it is not serialised again.
   */
  complete(lease: Lease, result: unknown, resultJson?: string): Promise<TransitionOutcome>;
  /** Failed with `error`, plus the terminal `error` event, atomically. */
  fail(lease: Lease, error: TaskError & { node?: string }): Promise<TransitionOutcome>;
  /** Back to pending after `delayMs`, with a `retry` event. */
  retry(lease: Lease, retry: { error: TaskError; delayMs: number }): Promise<TransitionOutcome>;
  /**
   * Hand-back: pending again, the attempt not counted (cancelled instead if a cancel is pending). Its `retry`
   * event says why: `WORKER_SHUTDOWN` unless `reason` names another cause.
   */
  release(lease: Lease, reason?: TaskError): Promise<TransitionOutcome>;
  /** Requeues or ends tasks whose lease expired; safe to run from any number of processes. */
  sweep(): Promise<SweepReport>;
  /** Deletes terminal tasks beyond the retention age or count (and failed webhook messages past it); returns how many tasks. */
  prune(): Promise<number>;

  /**
   * Claims up to `max` due webhook messages for `leaseMs` (attempts + 1): nobody else claims them until they
   * are settled or the lease expires (a deliverer killed mid-delivery: redelivered after that).
   */
  claimWebhooks(max: number, leaseMs: number): Promise<WebhookClaim>;
  /** Ends a delivery attempt; false when its lease was lost (nothing changed). */
  settleWebhook(delivery: WebhookDelivery, settlement: WebhookSettlement): Promise<boolean>;
  /** Calls `listener` (a hint, in any process on the store) when a transition wrote webhook messages. Returns the remover. */
  onWebhooks(listener: () => void): () => void;
  /** The pending and failed webhook messages of a task (inspection and tests). */
  webhookMessages(taskId: string): Promise<WebhookOutboxEntry[]>;
  close(): Promise<void>;
}

/** Interrupted tasks are kept this long by default (`tasks.interruptedRetentionMs`): 30 days. */
export const DEFAULT_INTERRUPTED_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Settings both backends share (from `tasks` in the config). */
export interface TaskStoreSettings {
  maxLost: number;
  retentionMs: number;
  /** Interrupted tasks not resumed for this long are pruned (default: 30 days). */
  interruptedRetentionMs?: number;
  maxRetained: number;
  idempotencyTtlMs: number;
  /** Fallback polling period when a notification is missed (claims, subscriptions). Default 1000. */
  pollMs?: number;
  /** Background errors (notification channel, housekeeping). Default: a process warning. */
  onError?: (error: unknown) => void;
}
