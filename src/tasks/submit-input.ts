/**
 * Normalising what `submit` and `list` receive, once, for both backends: validation (zod), defaults, the
 * request fingerprint for idempotency, and the opaque list cursor.
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { InvalidCursorError } from "./errors.js";
import type { ListTasksQuery, SubmitTaskInput, TaskRecord, TaskStatus } from "./types.js";
import { TASK_STATUSES } from "./types.js";
import { WEBHOOK_EVENTS } from "../config/webhooks.js";

const submitSchema = z.object({
  graph: z.string().min(1),
  version: z.number().int().min(1),
  input: z.unknown(),
  owner: z.string().nullish().transform((v) => v ?? null),
  requestId: z.string().nullish().transform((v) => v ?? null),
  idempotencyKey: z.string().min(1).max(255).optional(),
  fingerprint: z.string().min(1).optional(),
  maxAttempts: z.number().int().min(1).default(1),
  backoffMs: z.number().int().min(0).default(1000),
  timeoutMs: z.number().int().positive().nullish().transform((v) => v ?? null),
  traceContext: z.record(z.string(), z.string()).nullish(),
  interrupted: z.object({ node: z.string(), value: z.unknown(), checkpoint: z.object({ next_node: z.string().nullable(), step: z.number().int().min(0) }).passthrough() }).optional(),
  webhooks: z.array(z.object({ url: z.string().min(1), events: z.array(z.enum(WEBHOOK_EVENTS)) })).nullish(),
});

/** A validated submit with defaults applied and the input already serialised. */
export interface ResolvedSubmit {
  graph: string;
  version: number;
  inputJson: string;
  owner: string | null;
  requestId: string | null;
  idempotencyKey: string | undefined;
  /** The request's fingerprint; "" when there is no idempotency key. */
  fingerprint: string;
  maxAttempts: number;
  backoffMs: number;
  timeoutMs: number | null;
  /** JSON of the submitting request's trace context, or null. */
  traceJson: string | null;
  /** JSON of `{ node, value }` and of the checkpoint, for a task stored already interrupted. */
  interrupted: { node: string; value: unknown; interruptJson: string; checkpointJson: string } | undefined;
  /** JSON of the task's webhook endpoints (`[{ url, events }]`), or null when it has none. */
  webhooksJson: string | null;
}

/**
 * Validates a submit and fills defaults. Throws a TypeError naming the bad field (a programming error of the
 * caller: the HTTP layer validates user input before).
 *
 * @example
 * const s = resolveSubmit({ graph: "hello", version: 1, input: { name: "Ada" } }); // s.maxAttempts === 1
 */
export function resolveSubmit(raw: SubmitTaskInput): ResolvedSubmit {
  const parsed = submitSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TypeError(`Invalid task submit: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const s = parsed.data;
  const inputJson = JSON.stringify(s.input ?? null);
  return {
    graph: s.graph,
    version: s.version,
    inputJson,
    owner: s.owner,
    requestId: s.requestId,
    idempotencyKey: s.idempotencyKey,
    // Only an idempotency key needs a fingerprint; hashing every input would cost each submit for nothing.
    fingerprint: s.fingerprint ?? (s.idempotencyKey === undefined ? "" : fingerprintOf(s.graph, s.version, s.input)),
    maxAttempts: s.maxAttempts,
    backoffMs: s.backoffMs,
    timeoutMs: s.timeoutMs,
    traceJson: s.traceContext ? JSON.stringify(s.traceContext) : null,
    interrupted: s.interrupted && {
      node: s.interrupted.node,
      value: s.interrupted.value ?? null,
      interruptJson: JSON.stringify({ node: s.interrupted.node, value: s.interrupted.value ?? null }),
      checkpointJson: JSON.stringify(s.interrupted.checkpoint),
    },
    webhooksJson: s.webhooks && s.webhooks.length > 0 ? JSON.stringify(s.webhooks.map((w) => ({ url: w.url, events: w.events }))) : null,
  };
}

/**
 * The record of a task just stored from `s` at `now` (ms): pending, never claimed. What a store answers a
 * submit with, without reading the new row back.
 *
 * @example
 * const task = pendingRecord(randomUUID(), resolveSubmit(raw), Date.now()); // task.status === "pending"
 */
export function pendingRecord(id: string, s: ResolvedSubmit, now: number): TaskRecord {
  return {
    id,
    graph: s.graph,
    version: s.version,
    status: "pending",
    created_at: new Date(now).toISOString(),
    started_at: null,
    completed_at: null,
    attempts: 0,
    result: null,
    error: null,
    request_id: s.requestId,
    owner: s.owner,
    interrupt: null,
  };
}

/**
 * The fingerprint of a resume request: the same task and value (object keys in any order) give the same one.
 *
 * @example
 * resumeFingerprint("t1", { ok: true }) === resumeFingerprint("t1", { ok: true }); // true
 */
export function resumeFingerprint(taskId: string, value: unknown): string {
  return createHash("sha256").update(stableJson(["resume", taskId, value ?? null])).digest("hex");
}

/**
 * A stable hash of a request: the same graph, version and input (object keys in any order) give the same
 * fingerprint.
 *
 * @example
 * fingerprintOf("g", 1, { a: 1, b: 2 }) === fingerprintOf("g", 1, { b: 2, a: 1 }); // true
 */
export function fingerprintOf(graph: string, version: number, input: unknown): string {
  return createHash("sha256").update(stableJson([graph, version, input ?? null])).digest("hex");
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableJson(v ?? null)).join(",")}]`;
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A validated list query. `before` is the list position the cursor points after (exclusive). */
export interface ResolvedListQuery {
  status: TaskStatus | undefined;
  graph: string | undefined;
  owner: string | null | undefined;
  limit: number;
  before: number | undefined;
}

/** Validates `list` arguments; an unknown cursor throws InvalidCursorError, a bad limit a RangeError. */
export function resolveListQuery(query: ListTasksQuery = {}): ResolvedListQuery {
  const limit = query.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError(`limit must be an integer from 1 to 1000, got ${String(query.limit)}`);
  if (query.status !== undefined && !TASK_STATUSES.includes(query.status)) throw new RangeError(`Unknown task status "${String(query.status)}"`);
  return { status: query.status, graph: query.graph, owner: query.owner, limit, before: query.cursor ? decodeCursor(query.cursor) : undefined };
}

/**
 * The opaque cursor for "the page after list position `position`". Positions are per-store creation
 * counters, so the order is stable while tasks change status.
 */
export function encodeCursor(position: number): string {
  return Buffer.from(`kg1:${position}`).toString("base64url");
}

function decodeCursor(cursor: string): number {
  const match = /^kg1:(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!match) throw new InvalidCursorError();
  return Number(match[1]);
}
