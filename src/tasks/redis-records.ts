/**
 * The Redis layout of the scale-out store (all under the configured prefix `P`) and the mapping of a task
 * hash to records. The Lua scripts (redis-scripts.ts) build the same key names.
 *
 *   P:t:<id>              hash    the task (fields below)
 *   P:t:<id>:ev           list    its events, JSON, index = seq - 1
 *   P:tasks:pos           counter list position of the next task (cursor order)
 *   P:idx:all             zset    pos → id, every task
 *   P:idx:status:<s>      zset    pos → id, per status
 *   P:idx:owner:<o>       zset    pos → id, per owner
 *   P:idx:terminal        zset    completed_at → "<pos, 15 digits>:<id>" (retention; ties by age)
 *   P:idx:leases          zset    lease_until (Redis server ms) → id, running tasks (sweeper)
 *   P:idx:interrupted     zset    interrupted_at → id, interrupted tasks (their own retention)
 *   P:idem:<sha256>       string  "<task id> <fingerprint>", PX = idempotency TTL
 *   P:idem:resume:<sha256> string the same, for `Idempotency-Key`s of resume requests
 *   P:ch:ev:<id>          channel each new event of a task
 *   P:ch:cancel           channel ids of tasks whose cancel was requested
 *   P:wh:d:<msg>:<n>      hash    a webhook message for endpoint n (id, type, url, ts, attempts, status,
 *                                 token, last_error, and the task record's fields as `r.<field>`)
 *   P:wh:due              zset    due time (Redis server ms; while claimed: lease end) → pending message
 *   P:wh:failed           zset    failure time → given-up message (pruned with the task retention)
 *   P:ch:wh               channel "a transition wrote webhook messages" (wakes deliverers)
 *   P:bull:tasks:*        BullMQ's queue "tasks"
 */
import { createHash } from "node:crypto";
import type { ClaimedTask, TaskRecord, TaskStatus, WebhookDelivery } from "./types.js";
import type { WebhookEventType } from "../config/webhooks.js";

/**
 * Key names under one prefix.
 *
 * @example
 * new RedisKeys("kaygraph").task("42"); // "kaygraph:t:42"
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  task(id: string): string {
    return `${this.prefix}:t:${id}`;
  }
  events(id: string): string {
    return `${this.prefix}:t:${id}:ev`;
  }
  /** Hashed, so any owner and key text makes a safe, fixed-length key. */
  idempotency(owner: string | null, key: string): string {
    return `${this.prefix}:idem:${createHash("sha256").update(`${owner ?? ""}\0${key}`).digest("hex")}`;
  }
  /** A resume request's `Idempotency-Key` (kept apart from the keys of submits). */
  resumeIdempotency(owner: string | null, key: string): string {
    return `${this.prefix}:idem:resume:${createHash("sha256").update(`${owner ?? ""}\0${key}`).digest("hex")}`;
  }
  get all(): string {
    return `${this.prefix}:idx:all`;
  }
  status(status: TaskStatus): string {
    return `${this.prefix}:idx:status:${status}`;
  }
  owner(owner: string): string {
    return `${this.prefix}:idx:owner:${owner}`;
  }
  get terminal(): string {
    return `${this.prefix}:idx:terminal`;
  }
  get interrupted(): string {
    return `${this.prefix}:idx:interrupted`;
  }
  get leases(): string {
    return `${this.prefix}:idx:leases`;
  }
  eventsChannel(id: string): string {
    return `${this.prefix}:ch:ev:${id}`;
  }
  get cancelChannel(): string {
    return `${this.prefix}:ch:cancel`;
  }
  /** BullMQ's own prefix (its keys are `<this>:tasks:…`). */
  get bull(): string {
    return `${this.prefix}:bull`;
  }
}

/** A task hash as HGETALL gives it (a Lua script returns it flat). */
export type TaskHash = Record<string, string>;

/** HGETALL's flat [field, value, …] array as an object. */
export function fromFlat(flat: unknown): TaskHash {
  const list = flat as string[];
  const hash: TaskHash = {};
  for (let i = 0; i + 1 < list.length; i += 2) hash[list[i] as string] = list[i + 1] as string;
  return hash;
}

const iso = (ms: string | undefined): string | null => (ms === undefined ? null : new Date(Number(ms)).toISOString());

/** The public record of a task hash. */
export function hashToRecord(h: TaskHash): TaskRecord {
  return {
    id: h.id as string,
    graph: h.graph as string,
    version: Number(h.version),
    status: h.status as TaskStatus,
    created_at: iso(h.created_at) as string,
    started_at: iso(h.started_at),
    completed_at: iso(h.completed_at),
    attempts: Number(h.attempts),
    result: h.result === undefined ? null : JSON.parse(h.result),
    error: h.error === undefined ? null : JSON.parse(h.error),
    request_id: h.request_id ?? null,
    owner: h.owner ?? null,
    interrupt: h.interrupt === undefined ? null : JSON.parse(h.interrupt),
  };
}

/** A webhook message hash as a delivery (see redis-scripts WEBHOOK_CLAIM). */
export function hashToDelivery(key: string, h: TaskHash, token: string): WebhookDelivery {
  const record: TaskHash = {};
  for (const [field, value] of Object.entries(h)) if (field.startsWith("r.")) record[field.slice(2)] = value;
  return { key, id: h.id as string, type: h.type as WebhookEventType, url: h.url as string, ts: Number(h.ts), task: hashToRecord(record), attempts: Number(h.attempts), token };
}

/** The worker's view of a claimed task hash. */
export function hashToClaimed(h: TaskHash): ClaimedTask {
  return {
    ...hashToRecord(h),
    input: JSON.parse(h.input as string),
    max_attempts: Number(h.max_attempts),
    backoff_ms: Number(h.backoff_ms),
    timeout_ms: h.timeout_ms === undefined ? null : Number(h.timeout_ms),
    lost: Number(h.lost),
    trace_context: h.trace_context === undefined ? null : (JSON.parse(h.trace_context) as Record<string, string>),
    resumes: Number(h.resumes ?? 0),
    checkpoint: h.checkpoint === undefined ? null : JSON.parse(h.checkpoint),
  };
}
