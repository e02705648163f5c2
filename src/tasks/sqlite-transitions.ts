/**
 * The state changes of the embedded store, as synchronous steps meant to run inside one SQLite transaction
 * each, so a status change and its event are written together or not at all.
 */
import type { FenceRow, Statements, TaskRow } from "./sqlite-schema.js";
import { CANCELLED_ERROR, WORKER_LOST_MESSAGE } from "./task-messages.js";
import type { Checkpoint } from "../graph/interrupt.js";
import type { TaskError, TaskEventInput, TaskInterrupt } from "./types.js";
import { enqueueWebhooks } from "./sqlite-outbox.js";


/** Events per INSERT statement: one statement run (bind, step, result object) serves up to this many rows. */
const ROWS_PER_INSERT = 8;
/** `INSERT … VALUES (?, ?, ?)` repeated for 1 … ROWS_PER_INSERT rows (index = rows). */
const INSERT_EVENTS = Array.from({ length: ROWS_PER_INSERT + 1 }, (_, rows) => `INSERT INTO kg_task_events (task_pos, seq, body) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?)").join(", ")}`);

/**
 * An event's stored body: the text `JSON.stringify({ ...event, seq })` gives, built without that copy for the
 * events the runner stores (plain objects without a `seq` of their own): their JSON with `seq` spliced in last.
 * Anything else (an event that carries a `seq`, or whose JSON is not an object, e.g. through a `toJSON`) takes the
 * copy, so the body is always one JSON object with one `seq`.
 */
export function eventBody(event: TaskEventInput, seq: number): string {
  const json = "seq" in event ? undefined : (JSON.stringify(event) as string | undefined);
  if (json === undefined || json.charCodeAt(0) !== 123 /* { */) return JSON.stringify({ ...event, seq });
  return json.length === 2 ? `{"seq":${seq}}` : `${json.slice(0, -1)},"seq":${seq}}`;
}

/** Inserts the events of the task at `taskPos`, numbered from `afterSeq + 1` (the caller moves its `event_seq`); returns the last seq. */
export function insertEvents(sql: Statements, taskPos: number, afterSeq: number, events: readonly TaskEventInput[]): number {
  let seq = afterSeq;
  for (let at = 0; at < events.length; at += ROWS_PER_INSERT) {
    const rows = Math.min(ROWS_PER_INSERT, events.length - at);
    const values: Array<number | string> = new Array(rows * 3);
    for (let i = 0; i < rows; i++) {
      values[i * 3] = taskPos;
      values[i * 3 + 1] = ++seq;
      values[i * 3 + 2] = eventBody(events[at + i] as TaskEventInput, seq);
    }
    sql.prepare(INSERT_EVENTS[rows] as string).run(values);
  }
  return seq;
}

/** Appends events after the task's last seq; returns the new last seq. */
export function appendEvents(sql: Statements, row: Pick<TaskRow, "id" | "pos" | "event_seq">, events: readonly TaskEventInput[]): number {
  const seq = insertEvents(sql, row.pos, row.event_seq, events);
  sql.prepare("UPDATE kg_tasks SET event_seq = ? WHERE pos = ?").run(seq, row.pos);
  row.event_seq = seq;
  return seq;
}

/**
 * Ends a task: terminal status, result or error, and its one terminal event. `resultJson`: the result as JSON
 * text, when the caller has it (else it is serialised here).
 */
export function finish(sql: Statements, row: Pick<FenceRow, "id" | "pos" | "event_seq" | "webhooks">, now: number, end: { status: "completed"; result: unknown; resultJson?: string } | { status: "failed" | "cancelled"; error: TaskError; node?: string }): void {
  const resultJson = end.status === "completed" ? (end.resultJson ?? JSON.stringify(end.result ?? null)) : null;
  const errorJson = end.status === "completed" ? null : JSON.stringify(end.error);
  // The terminal event's seq is taken by the same UPDATE.
  const seq = row.event_seq + 1;
  sql
    .prepare("UPDATE kg_tasks SET status = ?, result = ?, error = ?, completed_at = ?, lease_token = NULL, lease_expires_at = NULL, interrupt = NULL, interrupted_at = NULL, event_seq = ? WHERE pos = ?")
    .run(end.status, resultJson, errorJson, now, seq, row.pos);
  if (end.status === "completed") {
    // The text JSON.stringify({ type, ts, result, seq }) gives, around the result's text.
    sql.prepare(INSERT_EVENTS[1] as string).run(row.pos, seq, `{"type":"result","ts":${now},"result":${resultJson as string},"seq":${seq}}`);
  } else {
    insertEvents(sql, row.pos, row.event_seq, [{ type: "error", ts: now, error: end.error.message, error_code: end.error.error_code, ...(end.node !== undefined && { node: end.node }) }]);
  }
  row.event_seq = seq;
  enqueueWebhooks(sql, row, `task.${end.status}`, now);
}

/** Ends a task as cancelled. */
export function finishCancelled(sql: Statements, row: Pick<FenceRow, "id" | "pos" | "event_seq" | "webhooks">, now: number): void {
  finish(sql, row, now, { status: "cancelled", error: CANCELLED_ERROR });
}

/** Back to pending, lease cleared; available again at `availableAt`. */
export function toPending(sql: Statements, row: Pick<FenceRow, "pos" | "attempts" | "lost">, changes: { availableAt: number; attempts?: number; lost?: number }): void {
  sql
    .prepare("UPDATE kg_tasks SET status = 'pending', lease_token = NULL, lease_expires_at = NULL, available_at = ?, attempts = ?, lost = ? WHERE pos = ?")
    .run(changes.availableAt, changes.attempts ?? row.attempts, changes.lost ?? row.lost, row.pos);
}

/**
 * A running task whose lease expired: cancelled if a cancel is pending, failed with WORKER_LOST once lost
 * more than `maxLost` times, otherwise pending again with a `retry` event (the lost attempt counts).
 */
export function recoverLost(sql: Statements, row: FenceRow, now: number, maxLost: number): "requeued" | "ended" {
  if (row.cancel_requested) {
    finishCancelled(sql, row, now);
    return "ended";
  }
  const lost = row.lost + 1;
  sql.prepare("UPDATE kg_tasks SET lost = ? WHERE pos = ?").run(lost, row.pos);
  if (lost > maxLost) {
    finish(sql, row, now, { status: "failed", error: { error_code: "WORKER_LOST", message: `${WORKER_LOST_MESSAGE} It was lost ${lost} times.` } });
    return "ended";
  }
  appendEvents(sql, row, [{ type: "retry", ts: now, attempt: row.attempts, error: WORKER_LOST_MESSAGE, error_code: "WORKER_LOST", delay_ms: 0 }]);
  toPending(sql, row, { availableAt: now, lost });
  return "requeued";
}

/** Running → interrupted: the lease ends, the interrupt and its checkpoint are stored with an `interrupt` event. */
export function toInterrupted(sql: Statements, row: Pick<FenceRow, "id" | "pos" | "event_seq" | "webhooks">, now: number, stop: TaskInterrupt & { checkpoint: Checkpoint }): void {
  sql
    .prepare("UPDATE kg_tasks SET status = 'interrupted', interrupt = ?, checkpoint = ?, interrupted_at = ?, lease_token = NULL, lease_expires_at = NULL WHERE pos = ?")
    .run(JSON.stringify({ node: stop.node, value: stop.value ?? null }), JSON.stringify(stop.checkpoint), now, row.pos);
  appendEvents(sql, row, [{ type: "interrupt", ts: now, node: stop.node, value: stop.value ?? null, task_id: row.id }]);
  enqueueWebhooks(sql, row, "task.interrupted", now);
}

/** Interrupted → pending: `value` joins the checkpoint's resume values; the task is claimable at once. */
export function toResumed(sql: Statements, row: TaskRow, now: number, value: unknown): void {
  const checkpoint = row.checkpoint === null ? null : (JSON.parse(row.checkpoint) as Checkpoint);
  if (checkpoint !== null) checkpoint.resume = [...checkpoint.resume, value ?? null];
  sql
    .prepare("UPDATE kg_tasks SET status = 'pending', interrupt = NULL, interrupted_at = NULL, checkpoint = ?, available_at = ?, resumes = resumes + 1 WHERE pos = ?")
    .run(checkpoint === null ? null : JSON.stringify(checkpoint), now, row.pos);
}
