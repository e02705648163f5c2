/**
 * The scale-out task store: BullMQ on Redis schedules the work (queue, delayed retries, blocking fetch,
 * lock tokens, stalled-job recovery) and our own Redis keys hold the truth about each task (record, list
 * indexes, idempotency keys, events with pub/sub), changed only by atomic Lua scripts. A BullMQ job is the
 * task id; its lock token is our lease token, so BullMQ's locks and our fencing agree. The record decides:
 * a job handed out for a task that is already terminal (or cancelled) is discarded, never run.
 *
 * Interrupts: an interrupted task has no BullMQ job. `interrupt` parks the record (status, interrupt,
 * checkpoint, `interrupt` event, lease cleared, `idx:interrupted` for its own retention) in one script, then
 * moves the job to completed, which removes it (jobs are added with removeOnComplete), so it counts nowhere
 * and cannot stall back. `resume` sets the record pending and adds a fresh job under the same id. If a step
 * after a script is lost (a crash, an expired lock), the record still decides: a stale job of an interrupted
 * task is discarded by the claim script, and a pending task without a job is enqueued again by the sweeper.
 */
import { randomUUID } from "node:crypto";
import { Queue, type Job } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { Errors, KaygraphError } from "../errors.js";
import { JobFetcher } from "./bullmq-fetcher.js";
import { IdempotencyMismatchError, TaskConflictError } from "./errors.js";
import { EventFeed } from "./event-feed.js";
import { HeldEvents } from "./held-events.js";
import { LeaseRegistry } from "./lease-registry.js";
import { RedisPubSub } from "./redis-pubsub.js";
import { batchWrites } from "./redis-write-batching.js";
import { fromFlat, hashToClaimed, hashToDelivery, hashToRecord, RedisKeys, type TaskHash } from "./redis-records.js";
import { defineTaskScripts, type TaskScripts } from "./redis-scripts.js";
import { encodeCursor, pendingRecord, resolveListQuery, resolveSubmit, resumeFingerprint } from "./submit-input.js";
import { RELEASED } from "./task-messages.js";
import type { Checkpoint } from "../graph/interrupt.js";
import { checkpointText } from "../graph/checkpoint.js";
import type {
  ClaimOptions, Lease, ListTasksQuery, OwnerScope, RenewResult, SubmitResult, SubmitTaskInput, SweepReport, TaskError,
  TaskEvent, TaskInterrupt, TaskEventInput, TaskEventListener, TaskPage, TaskRecord, TaskStore, TaskStoreSettings, TransitionOutcome,
  WebhookClaim, WebhookDelivery, WebhookOutboxEntry, WebhookSettlement,
} from "./types.js";
import type { WebhookEventType } from "../config/webhooks.js";
import { DEFAULT_INTERRUPTED_RETENTION_MS } from "./types.js";

/** Options of {@link BullmqTaskStore.open}. */
export interface BullmqTaskStoreOptions extends TaskStoreSettings {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Key prefix (`redis.prefix`), so several projects can share one Redis. */
  prefix: string;
  /**
   * A pending task this old without a BullMQ job (its submitter died between writing the record and adding
   * the job) is enqueued again by the sweeper. Default 10 s.
   */
  orphanAfterMs?: number;
}

const QUEUE = "tasks";

/**
 * Every call on the store's own connection is bounded, so a frozen or vanished Redis answers the API with 503
 * in about a second instead of hanging requests: a command timeout, a connect timeout, no offline queue (a
 * call while disconnected fails at once), no silent re-send of a call cut by a reconnect (it may have run: the
 * caller retries, with its Idempotency-Key), and endless reconnects with capped backoff (the store recovers by
 * itself). The same bounds as the rate-limit client (LIMITER_REDIS_OPTIONS). Blocking fetches run on the fetcher's own connection, which
 * has no command timeout (a blocking call must be allowed to wait).
 */
export const TASK_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  commandTimeout: 1000,
  connectTimeout: 2000,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
});
const LIST_BATCH = 200;

/**
 * The Redis backend of {@link TaskStore}.
 *
 * @example
 * const store = await BullmqTaskStore.open({ url: "redis://127.0.0.1:6379", prefix: "kaygraph", maxLost: 3, retentionMs: 6048e5, maxRetained: 1e5, idempotencyTtlMs: 864e5 });
 */
export class BullmqTaskStore implements TaskStore {
  readonly backend = "redis";
  private readonly keys: RedisKeys;
  private readonly scripts: TaskScripts;
  private readonly queue: Queue;
  private readonly fetcher: JobFetcher;
  private readonly pubsub: RedisPubSub;
  private readonly leases = new LeaseRegistry();
  /** The queue-bound job of each lease, by lease token. */
  private readonly jobs = new Map<string, Job>();
  /** Events appended in this tick, not sent yet: the lease's next write carries them. */
  private readonly held = new HeldEvents();
  /** The write in flight per lease token: a transition called right after it waits for it (call order). */
  private readonly appending = new Map<string, Promise<unknown>>();
  private readonly background = new Set<Promise<unknown>>();
  private cancelChannel: Promise<unknown> | undefined;
  private closing: Promise<void> | undefined;
  /** Live subscriptions, ended by close(). */
  private readonly feeds = new Set<EventFeed>();
  private readonly pollMs: number;
  private readonly onError: (error: unknown) => void;

  private constructor(
    private readonly redis: Redis,
    private readonly settings: BullmqTaskStoreOptions,
  ) {
    this.pollMs = settings.pollMs ?? 1000;
    this.onError = settings.onError ?? ((error) => process.emitWarning(`kaygraph task store: ${error instanceof Error ? error.message : String(error)}`, { code: "KG_TASK_STORE" }));
    this.keys = new RedisKeys(settings.prefix);
    this.scripts = defineTaskScripts(redis);
    this.queue = new Queue(QUEUE, { connection: redis, prefix: this.keys.bull });
    this.queue.on("error", this.onError);
    this.pubsub = new RedisPubSub(redis, this.onError);
    this.fetcher = new JobFetcher({
      url: settings.url,
      queue: this.queue,
      prefix: this.keys.bull,
      queueName: QUEUE,
      maxLost: settings.maxLost,
      onError: this.onError,
      onStallLimit: (id) => this.track(this.markLost(id, "fail")),
    });
  }

  /** Connects and checks that Redis answers (a clear error instead of hanging requests). */
  static async open(options: BullmqTaskStoreOptions): Promise<BullmqTaskStore> {
    // lazyConnect: the first connect() rejects when Redis is down, instead of retrying behind a hanging ping.
    const redis = new Redis(options.url, { ...TASK_REDIS_OPTIONS, lazyConnect: true });
    // The socket error (ECONNREFUSED…) says more than the rejection ("Connection is closed").
    let socketError: unknown;
    const onConnectError = (error: unknown): void => void (socketError ??= error);
    redis.on("error", onConnectError);
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      const cause = socketError ?? error;
      throw new KaygraphError(Errors.StoreUnavailable, { message: `Redis at ${redactUrl(options.url)} does not answer: ${cause instanceof Error ? cause.message : String(cause)}`, cause });
    } finally {
      redis.off("error", onConnectError);
    }
    // Every submit, claim, write and job move of this process (BullMQ's own included) shares this connection:
    // what one turn sends goes out in one socket write.
    batchWrites(redis);
    const store = new BullmqTaskStore(redis, options);
    redis.on("error", store.onError);
    return store;
  }

  // #region API side

  async submit(raw: SubmitTaskInput): Promise<SubmitResult> {
    const s = resolveSubmit(raw);
    const id = randomUUID();
    const now = Date.now();
    // Stored already interrupted (a sync or streaming run that interrupted): the interrupt, its checkpoint, its event.
    const parked = s.interrupted && [s.interrupted.interruptJson, s.interrupted.checkpointJson, JSON.stringify({ type: "interrupt", ts: now, node: s.interrupted.node, value: s.interrupted.value, task_id: id })];
    const hasKey = s.idempotencyKey !== undefined;
    const idemKey = hasKey ? this.keys.idempotency(s.owner, s.idempotencyKey as string) : `${this.keys.prefix}:idem:none`;
    const stored = this.scripts.submit(
      this.keys.task(id), idemKey, this.keys.prefix, id, now, s.graph, s.version, s.inputJson,
      s.owner ?? "", s.owner === null ? 0 : 1, s.requestId ?? "", s.requestId === null ? 0 : 1,
      s.maxAttempts, s.backoffMs, s.timeoutMs ?? "", s.fingerprint, this.settings.idempotencyTtlMs, hasKey ? 1 : 0, s.traceJson ?? "",
      s.webhooksJson ?? "", ...(parked ?? []),
    ) as Promise<[string, string, string[]?]>;
    // Without a key the script always creates, so the job goes out right behind it on the same connection (one
    // round trip; Redis runs a connection's commands in order, so a worker never fetches it before its record
    // exists — and if it did, the claim would discard it and the orphan sweep would enqueue the task again).
    const early = !hasKey && parked === undefined;
    const [[kind, taskId, flat]] = await Promise.all([stored, early && this.enqueue(id)]);
    if (kind === "mismatch") throw new IdempotencyMismatchError(taskId);
    // Created pending: the record is what was sent (the script returns no hash to decode).
    const task = flat === undefined ? pendingRecord(id, s, now) : hashToRecord(fromFlat(flat));
    if (kind === "created" && parked === undefined && !early) await this.enqueue(id);
    // A retry of a submit whose answer was lost (it timed out after Redis stored it, before the job was added):
    // make sure the late-stored task has its job now instead of waiting for the orphan sweep. Adding a job id
    // that exists is a no-op, and a claim discards a job whose task is not pending.
    if (kind === "replay" && task.status === "pending") await this.enqueue(task.id);
    return { task, replayed: kind === "replay" };
  }

  async get(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined> {
    const hash = await this.redis.hgetall(this.keys.task(id));
    return visible(hash, scope) ? hashToRecord(hash) : undefined;
  }

  async list(query?: ListTasksQuery): Promise<TaskPage> {
    const q = resolveListQuery(query);
    const index = typeof q.owner === "string" ? this.keys.owner(q.owner) : q.status ? this.keys.status(q.status) : this.keys.all;
    const found: { pos: number; hash: TaskHash }[] = [];
    let max = q.before === undefined ? "+inf" : `(${q.before}`;
    // Walk the index newest first in batches, filtering by what the index does not cover.
    while (found.length <= q.limit) {
      const batch = await this.redis.zrevrangebyscore(index, max, "-inf", "WITHSCORES", "LIMIT", 0, LIST_BATCH);
      if (batch.length === 0) break;
      const pipeline = this.redis.pipeline();
      for (let i = 0; i < batch.length; i += 2) pipeline.hgetall(this.keys.task(batch[i] as string));
      const hashes = ((await pipeline.exec()) ?? []).map(([error, hash]) => {
        if (error) throw error;
        return hash as TaskHash;
      });
      hashes.forEach((hash, i) => {
        if (matches(hash, q)) found.push({ pos: Number(batch[i * 2 + 1]), hash });
      });
      max = `(${batch.at(-1) as string}`;
      if (batch.length < LIST_BATCH * 2) break;
    }
    const page = found.slice(0, q.limit);
    const last = page.at(-1);
    return { tasks: page.map((f) => hashToRecord(f.hash)), next_cursor: found.length > q.limit && last ? encodeCursor(last.pos) : null };
  }

  async cancel(id: string, scope?: OwnerScope): Promise<TaskRecord | undefined> {
    const scoped = scope?.owner !== undefined;
    const [kind, detail] = (await this.scripts.cancel(this.keys.task(id), this.keys.prefix, id, Date.now(), scoped ? 1 : 0, scope?.owner ?? "", scope?.owner === null ? 1 : 0)) as [string, string[] | string];
    if (kind === "missing") return undefined;
    if (kind === "conflict") throw new TaskConflictError(id, detail as string);
    // A pending task's job is removed so no worker fetches it; if one already did, its claim discards it.
    if (kind === "cancelled") await this.queue.remove(id).catch(this.onError);
    else this.leases.cancelRequested(id);
    return hashToRecord(fromFlat(detail));
  }

  async events(id: string, afterSeq = 0, limit?: number): Promise<TaskEvent[]> {
    // The list holds seq n at index n - 1.
    const bodies = await this.redis.lrange(this.keys.events(id), afterSeq, limit === undefined ? -1 : afterSeq + limit - 1);
    return bodies.map((body) => JSON.parse(body) as TaskEvent);
  }

  subscribe(id: string, afterSeq: number, listener: TaskEventListener): () => void {
    let off: (() => void) | undefined;
    let closed = false;
    const feed: EventFeed = new EventFeed(afterSeq, listener, {
      read: (seq, limit) => this.events(id, seq, limit),
      pollMs: this.pollMs,
      onError: this.onError,
      onClose: () => {
        closed = true;
        off?.();
        this.feeds.delete(feed);
      },
    });
    this.feeds.add(feed);
    this.pubsub
      .on(this.keys.eventsChannel(id), (message) => feed.hint(JSON.parse(message) as TaskEvent))
      .then((remove) => (closed ? remove() : (off = remove)), this.onError)
      // Subscribed (or failed to: then the feed's re-reads still deliver), now read what is stored.
      .finally(() => feed.start());
    return () => feed.close();
  }

  /** A cheap health check: Redis answers a PING (bounded by the command timeout). */
  async probe(): Promise<void> {
    await this.redis.ping();
  }

  // #endregion
  // #region worker side

  async claim(options: ClaimOptions): Promise<Lease | undefined> {
    return this.claimFirst(options);
  }

  /**
   * {@link claim}, with `alongside` sent in the same turn as each claim script (so on the same socket write:
   * no round trip of its own).
   */
  private async claimFirst(options: ClaimOptions, alongside?: () => void): Promise<Lease | undefined> {
    const { signal, leaseMs } = options;
    // A subscription that failed is tried again on the next claim (cancels still arrive with lease renewals).
    this.cancelChannel ??= this.pubsub.on(this.keys.cancelChannel, (id) => this.leases.cancelRequested(id)).catch((error: unknown) => {
      this.cancelChannel = undefined;
      this.onError(error);
    });
    await this.cancelChannel;
    while (!signal?.aborted && !this.closing) {
      const token = randomUUID();
      const lease = await this.take(await this.fetcher.next(token, leaseMs, signal), token, options, alongside);
      if (lease !== undefined) return lease;
    }
    return undefined;
  }

  /**
   * Waits for one task like {@link claim}, then takes up to `max - 1` more that are already waiting without
   * blocking: their fetches are sent together (pipelined on one connection), and so are their claims, so a
   * backlog costs a few round trips per batch instead of two per task. How many are waiting is asked in the
   * first task's claim turn (a plain LLEN of BullMQ's wait list: this store never pauses its queue nor uses
   * priorities), so it costs no round trip of its own.
   */
  async claimBatch(options: ClaimOptions, max: number): Promise<Lease[]> {
    let count: Promise<number> | undefined;
    const first = await this.claimFirst(options, max <= 1 ? undefined : () => void (count = this.redis.llen(this.queue.keys.wait).catch(() => 0)));
    if (first === undefined) return [];
    if (max <= 1 || options.signal?.aborted) return [first];
    const waiting = Math.min(max - 1, (await count) ?? 0);
    if (waiting === 0) return [first];
    const tokens = Array.from({ length: waiting }, () => randomUUID());
    const fetched = await Promise.all(tokens.map((token) => this.fetcher.nextNow(token, options.leaseMs).catch((error: unknown) => (this.onError(error), undefined))));
    const more = await Promise.all(fetched.map((job, i) => this.take(job, tokens[i], options).catch((error: unknown) => (this.onError(error), undefined))));
    return [first, ...more.filter((lease): lease is Lease => lease !== undefined)];
  }

  /** Turns a fetched job into a lease (the record decides), or discards it; undefined when nothing was taken. */
  private async take(job: Job | undefined, token: string, { signal, leaseMs }: ClaimOptions, alongside?: () => void): Promise<Lease | undefined> {
    if (job?.id === undefined) return undefined;
    if (signal?.aborted) {
      // Fetched while being stopped: hand it straight back (if this fails, its lock expires and it stalls back).
      await job.moveToWait(token).catch(this.onError);
      return undefined;
    }
    const claimed = this.scripts.claim(this.keys.task(job.id as string), this.keys.prefix, job.id as string, token, Date.now(), leaseMs, this.settings.maxLost);
    alongside?.();
    const [kind, flat] = (await claimed) as [string, string[]];
    if (kind === "claimed") {
      this.jobs.set(token, job);
      return this.leases.hold(hashToClaimed(fromFlat(flat)), token);
    }
    await job.moveToCompleted(null, token, false).catch(this.onError);
    return undefined;
  }

  async renew(lease: Lease, leaseMs: number): Promise<RenewResult> {
    const job = this.jobs.get(lease.token);
    const extended = job ? await job.extendLock(lease.token, leaseMs) : 0;
    const [ok, cancel] = extended ? ((await this.scripts.renew(this.keys.task(lease.task.id), this.keys.prefix, lease.task.id, lease.token, leaseMs)) as [number, number]) : [0, 0];
    if (!ok) {
      this.forget(lease);
      return { ok: false, cancelRequested: false };
    }
    if (cancel) this.leases.cancelRequested(lease.task.id);
    return { ok: true, cancelRequested: cancel === 1 };
  }

  async appendEvents(lease: Lease, events: TaskEventInput[]): Promise<boolean> {
    if (events.length === 0) return true;
    // Held for this tick: the lease's checkpoint or ending, if it comes now, carries them (see HeldEvents).
    return this.held.hold(lease.token, events.map((e) => JSON.stringify(e)), (bodies, checkpoint) => this.write(lease, bodies, checkpoint));
  }

  async checkpoint(lease: Lease, checkpoint: Checkpoint, events: TaskEventInput[] = []): Promise<boolean> {
    // Held for this tick like events: the events held and given, then the checkpoint, in one script call — the
    // lease's ending's, if it comes now (a task whose last checkpoint is taken right before it ends: one call less).
    return this.held.hold(lease.token, events.map((e) => JSON.stringify(e)), (bodies, cp) => this.write(lease, bodies, cp), checkpointText(checkpoint));
  }

  async interrupt(lease: Lease, stop: TaskInterrupt & { checkpoint: Checkpoint }): Promise<TransitionOutcome> {
    const now = Date.now();
    const value = stop.value ?? null;
    const event = JSON.stringify({ type: "interrupt", ts: now, node: stop.node, value, task_id: lease.task.id });
    return this.transition(lease, "interrupt", JSON.stringify({ node: stop.node, value }), event, now, 0, JSON.stringify(stop.checkpoint));
  }

  async resume(id: string, value: unknown, options: OwnerScope & { idempotencyKey?: string } = {}): Promise<SubmitResult | undefined> {
    const key = options.idempotencyKey;
    const idemKey = key === undefined ? `${this.keys.prefix}:idem:none` : this.keys.resumeIdempotency(options.owner ?? null, key);
    const fingerprint = resumeFingerprint(id, value);
    const scoped = options.owner !== undefined;
    for (;;) {
      // The resume value joins the checkpoint here, not in Lua (cjson would not round-trip the shared store);
      // the script applies it only if no other resume came in between, else this reads again.
      const [resumes, stored] = await this.redis.hmget(this.keys.task(id), "resumes", "checkpoint");
      const checkpoint = stored === null ? null : (JSON.parse(stored) as Checkpoint);
      if (checkpoint !== null) checkpoint.resume = [...checkpoint.resume, value ?? null];
      const [kind, detail] = (await this.scripts.resume(
        this.keys.task(id), idemKey, this.keys.prefix, id, Date.now(), resumes ?? "0", checkpoint === null ? "" : JSON.stringify(checkpoint),
        key === undefined ? 0 : 1, fingerprint, this.settings.idempotencyTtlMs, scoped ? 1 : 0, options.owner ?? "", options.owner === null ? 1 : 0,
      )) as [string, string[] | string | undefined];
      if (kind === "stale") continue;
      if (kind === "missing") return undefined;
      if (kind === "mismatch") throw new IdempotencyMismatchError(detail as string);
      if (kind === "conflict") throw new TaskConflictError(id, detail as string, `Task ${id} is ${detail as string}, not interrupted; only an interrupted task can be resumed.`);
      if (kind === "resumed") await this.enqueue(id);
      return { task: hashToRecord(fromFlat(detail)), replayed: kind === "replay" };
    }
  }

  async state(id: string, scope?: OwnerScope): Promise<Checkpoint | null | undefined> {
    const hash = await this.redis.hgetall(this.keys.task(id));
    if (!visible(hash, scope)) return undefined;
    return hash.checkpoint === undefined ? null : (JSON.parse(hash.checkpoint) as Checkpoint);
  }

  async complete(lease: Lease, result: unknown, resultJson?: string): Promise<TransitionOutcome> {
    const now = Date.now();
    const json = resultJson ?? JSON.stringify(result ?? null);
    // The event's text around the result's (the key order of JSON.stringify({ type, ts, result })).
    return this.transition(lease, "complete", json, `{"type":"result","ts":${now},"result":${json}}`, now);
  }

  async fail(lease: Lease, error: TaskError & { node?: string }): Promise<TransitionOutcome> {
    const { node, ...taskError } = error;
    const now = Date.now();
    const event = { type: "error", ts: now, error: error.message, error_code: error.error_code, ...(node !== undefined && { node }) };
    return this.transition(lease, "fail", JSON.stringify(taskError), JSON.stringify(event), now);
  }

  async retry(lease: Lease, retry: { error: TaskError; delayMs: number }): Promise<TransitionOutcome> {
    const now = Date.now();
    const event = { type: "retry", ts: now, attempt: lease.task.attempts, error: retry.error.message, error_code: retry.error.error_code, delay_ms: retry.delayMs };
    return this.transition(lease, "retry", "", JSON.stringify(event), now, retry.delayMs);
  }

  async release(lease: Lease, reason: TaskError = RELEASED): Promise<TransitionOutcome> {
    const now = Date.now();
    const event = { type: "retry", ts: now, attempt: lease.task.attempts, error: reason.message, error_code: reason.error_code, delay_ms: 0 };
    return this.transition(lease, "release", "", JSON.stringify(event), now);
  }

  async sweep(): Promise<SweepReport> {
    const report: SweepReport = { requeued: 0, ended: 0 };
    const [seconds, micros] = await this.redis.time();
    const expired = await this.redis.zrangebyscore(this.keys.leases, "-inf", Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), "LIMIT", 0, 500);
    for (const id of expired) {
      const state = await this.queue.getJobState(id);
      // Active: BullMQ's stalled checker has not looked yet (or the holder renews late); it decides.
      if (state === "active") continue;
      const waiting = ["waiting", "delayed", "prioritized", "paused", "waiting-children"].includes(state);
      const outcome = await this.markLost(id, waiting ? "requeue" : "fail");
      if (outcome === "requeued") report.requeued++;
      if (outcome === "ended") {
        report.ended++;
        if (waiting) await this.queue.remove(id).catch(this.onError);
      }
    }
    await this.enqueueOrphans();
    return report;
  }

  async prune(): Promise<number> {
    let pruned = 0;
    // Interrupted tasks wait for a person: their own (longer) retention, counted from the interrupt.
    const cutoff = Date.now() - (this.settings.interruptedRetentionMs ?? DEFAULT_INTERRUPTED_RETENTION_MS);
    const stale = await this.redis.zrangebyscore(this.keys.interrupted, "-inf", cutoff, "LIMIT", 0, 1000);
    if (stale.length > 0) pruned += (await this.scripts.pruneInterrupted(this.keys.prefix, cutoff, ...stale)) as number;
    const old = await this.redis.zrangebyscore(this.keys.terminal, "-inf", Date.now() - this.settings.retentionMs, "LIMIT", 0, 1000);
    if (old.length > 0) pruned += (await this.scripts.prune(this.keys.prefix, ...old)) as number;
    await this.scripts.webhookPrune(this.keys.prefix, Date.now() - this.settings.retentionMs);
    const excess = (await this.redis.zcard(this.keys.terminal)) - this.settings.maxRetained;
    if (excess > 0) {
      const oldest = await this.redis.zrange(this.keys.terminal, 0, Math.min(excess, 1000) - 1);
      pruned += (await this.scripts.prune(this.keys.prefix, ...oldest)) as number;
    }
    return pruned;
  }

  async claimWebhooks(max: number, leaseMs: number): Promise<WebhookClaim> {
    const token = randomUUID();
    const [next, flat] = (await this.scripts.webhookClaim(this.keys.prefix, max, leaseMs, token)) as [number, (string | string[])[]];
    const deliveries: WebhookDelivery[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) deliveries.push(hashToDelivery(flat[i] as string, fromFlat(flat[i + 1]), token));
    return { deliveries, nextDueIn: next < 0 ? null : next };
  }

  async settleWebhook(delivery: WebhookDelivery, settlement: WebhookSettlement): Promise<boolean> {
    const delay = settlement.outcome === "retry" ? settlement.delayMs : 0;
    const error = settlement.outcome === "delivered" ? "" : settlement.error;
    return ((await this.scripts.webhookSettle(this.keys.prefix, delivery.key, delivery.token, settlement.outcome, delay, error)) as number) === 1;
  }

  onWebhooks(listener: () => void): () => void {
    let off: (() => void) | undefined;
    let closed = false;
    this.pubsub.on(`${this.keys.prefix}:ch:wh`, () => listener()).then((remove) => (closed ? remove() : (off = remove)), this.onError);
    return () => {
      closed = true;
      off?.();
    };
  }

  async webhookMessages(taskId: string): Promise<WebhookOutboxEntry[]> {
    const prefix = `msg_${taskId}_`;
    const keys = [...(await this.redis.zrange(`${this.keys.prefix}:wh:due`, 0, -1)), ...(await this.redis.zrange(`${this.keys.prefix}:wh:failed`, 0, -1))].filter((k) => k.startsWith(prefix));
    const out: WebhookOutboxEntry[] = [];
    for (const key of keys) {
      const h = await this.redis.hgetall(`${this.keys.prefix}:wh:d:${key}`);
      if (h.id === undefined) continue;
      out.push({ id: h.id, type: h.type as WebhookEventType, url: h.url as string, status: h.status === "failed" ? "failed" : "pending", attempts: Number(h.attempts), last_error: h.last_error ?? null });
    }
    return out;
  }

  /** Closes every connection (waiting fetches resolve undefined). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const feed of [...this.feeds]) feed.close();
      await this.fetcher.close();
      await Promise.allSettled(this.background);
      await this.pubsub.close();
      await this.queue.close();
      await this.redis.quit();
    })();
    return this.closing;
  }

  // #endregion
  // #region internals

  private async enqueue(id: string): Promise<void> {
    await this.queue.add("task", null, { jobId: id, removeOnComplete: true, removeOnFail: true });
  }

  /**
   * A fenced write while the task runs: `bodies` (events), then `checkpoint` unless empty. A transition called
   * later waits for it (call order). False when fenced.
   */
  private write(lease: Lease, bodies: string[], checkpoint: string): Promise<boolean> {
    const written = this.scripts.append(this.keys.task(lease.task.id), this.keys.prefix, lease.task.id, lease.token, checkpoint, ...bodies) as Promise<number>;
    const settled = written.catch(() => undefined);
    this.appending.set(lease.token, settled);
    void settled.then(() => {
      if (this.appending.get(lease.token) === settled) this.appending.delete(lease.token);
    });
    return written.then((seq) => seq >= 0);
  }

  /**
   * A fenced transition of the record (with the lease's held events, stored first), then the matching move of
   * the BullMQ job.
   */
  private async transition(lease: Lease, mode: "complete" | "fail" | "retry" | "release" | "interrupt", payload: string, body: string, now: number, delayMs = 0, checkpoint = ""): Promise<TransitionOutcome> {
    const taken = this.held.take(lease.token);
    const job = this.jobs.get(lease.token);
    // An end or an interrupt completes the job (removed) whatever the outcome, so that move goes out right
    // behind the script, on the same connection (one round trip). When the script fenced this holder, BullMQ
    // refuses the move itself: the job's lock is then another holder's, or expired.
    const ends = mode === "complete" || mode === "fail" || mode === "interrupt";
    let early: Promise<unknown> | undefined;
    const call = (async () => {
      await this.appending.get(lease.token);
      // An interrupt's own checkpoint is later than any held one.
      const stored = mode === "interrupt" ? checkpoint : (taken?.checkpoint ?? "");
      const script = this.scripts.transition(this.keys.task(lease.task.id), this.keys.prefix, lease.task.id, lease.token, now, mode, payload, body, stored, ...(taken?.bodies ?? []));
      if (ends && job !== undefined) early = job.moveToCompleted(null, lease.token, false).catch((error: unknown) => error);
      return (await script) as [TransitionOutcome, number];
    })();
    taken?.settle(call.then(([, stored]) => stored === 1));
    const [outcome] = await call;
    this.forget(lease);
    if (early !== undefined) {
      const failed = await early;
      // Fenced: the refusal is expected. Otherwise, a move that failed (its lock expired meanwhile) leaves the
      // job to BullMQ's stalled checker, and the next claim sees the record's truth.
      if (failed instanceof Error && outcome !== "fenced") this.onError(failed);
      return outcome;
    }
    // Fenced: the job belongs to someone else now. Otherwise hand the job on; if that fails (its lock expired
    // meanwhile) BullMQ's stalled checker returns it and the next claim sees the record's truth.
    if (outcome === "fenced" || job === undefined) return outcome;
    const move =
      outcome === "ok" && mode === "retry" ? job.moveToDelayed(now + delayMs, lease.token)
      : outcome === "ok" && mode === "release" ? job.moveToWait(lease.token)
      : job.moveToCompleted(null, lease.token, false);
    await Promise.resolve(move).catch(this.onError);
    return outcome;
  }

  private async markLost(id: string, mode: "requeue" | "fail"): Promise<"requeued" | "ended" | "skip"> {
    return (await this.scripts.lost(this.keys.task(id), this.keys.prefix, id, Date.now(), this.settings.maxLost, mode)) as "requeued" | "ended" | "skip";
  }

  private async enqueueOrphans(): Promise<void> {
    const oldest = await this.redis.zrange(this.keys.status("pending"), 0, 99);
    for (const id of oldest) {
      const created = Number(await this.redis.hget(this.keys.task(id), "created_at"));
      if (Date.now() - created < (this.settings.orphanAfterMs ?? 10_000)) break;
      if ((await this.queue.getJob(id)) === undefined) await this.enqueue(id);
    }
  }

  private forget(lease: Lease): void {
    this.jobs.delete(lease.token);
    this.leases.drop(lease);
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch(this.onError).finally(() => this.background.delete(tracked));
    this.background.add(tracked);
  }

  // #endregion
}

function visible(hash: TaskHash, scope: OwnerScope | undefined): boolean {
  return hash.id !== undefined && (scope?.owner === undefined || (hash.owner ?? null) === scope.owner);
}

function matches(hash: TaskHash, q: ReturnType<typeof resolveListQuery>): boolean {
  if (hash.id === undefined) return false;
  if (q.status !== undefined && hash.status !== q.status) return false;
  if (q.graph !== undefined && hash.graph !== q.graph) return false;
  return q.owner === undefined || (hash.owner ?? null) === q.owner;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//***@");
}
