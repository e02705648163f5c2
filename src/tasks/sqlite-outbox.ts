/**
 * The webhook outbox of the embedded store: a table written in the same transaction as the task transition
 * it announces (completed, failed, cancelled, interrupted), so a message exists exactly when its transition
 * committed. Deliverers in any process claim due rows with a lease; a delivered row is deleted, a given-up
 * one is kept as `failed` until the task retention prunes it. The table is part of the schema (sqlite-schema.ts,
 * version 3).
 */
import { randomUUID } from "node:crypto";
import type { WebhookEventType } from "../config/webhooks.js";
import { rowToRecord, type Statements, type TaskRow } from "./sqlite-schema.js";
import type { TaskWebhook, WebhookDelivery, WebhookOutboxEntry, WebhookSettlement } from "./types.js";

/** Outbox rows written per statement cache since last asked: the store rings deliverers after its commit. */
const written = new WeakMap<Statements, number>();

/** True (once) when transactions through `sql` wrote outbox rows since the last call. */
export function takeOutboxWrites(sql: Statements): boolean {
  const n = written.get(sql) ?? 0;
  written.delete(sql);
  return n > 0;
}

interface OutboxRow {
  pos: number;
  id: string;
  task_id: string;
  type: WebhookEventType;
  url: string;
  ts: number;
  data: string;
  status: "pending" | "failed";
  attempts: number;
  next_at: number;
  lease_token: string | null;
  last_error: string | null;
}

/**
 * Writes the messages of `type` for every endpoint of the task that wants it, inside the caller's
 * transaction, right after the transition (and its event) was written. `row` is the row before the change.
 */
export function enqueueWebhooks(sql: Statements, row: Pick<TaskRow, "id" | "webhooks">, type: WebhookEventType, now: number): void {
  if (row.webhooks === null || row.webhooks === undefined) return;
  const targets = (JSON.parse(row.webhooks) as TaskWebhook[]).filter((t) => t.events.includes(type));
  if (targets.length === 0) return;
  const after = sql.task(row.id) as TaskRow;
  const data = JSON.stringify(rowToRecord(after));
  const id = `msg_${row.id}_${after.event_seq}`;
  const insert = sql.prepare("INSERT INTO kg_webhook_outbox (id, task_id, type, url, ts, data, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (const target of targets) insert.run(id, row.id, type, target.url, now, data, now);
  written.set(sql, (written.get(sql) ?? 0) + targets.length);
}

/** Claims up to `max` due rows (inside a transaction). */
export function claimOutbox(sql: Statements, max: number, leaseMs: number): WebhookDelivery[] {
  const now = Date.now();
  const token = randomUUID();
  const rows = sql
    .prepare("UPDATE kg_webhook_outbox SET lease_token = ?, next_at = ?, attempts = attempts + 1 WHERE pos IN (SELECT pos FROM kg_webhook_outbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, pos LIMIT ?) RETURNING *")
    .all(token, now + leaseMs, now, max) as OutboxRow[];
  return rows
    .sort((a, b) => a.pos - b.pos)
    .map((r) => ({ key: String(r.pos), id: r.id, type: r.type, url: r.url, ts: r.ts, task: JSON.parse(r.data), attempts: r.attempts, token }));
}

/** Settles one claimed row if its lease still holds. */
export function settleOutbox(sql: Statements, delivery: WebhookDelivery, settlement: WebhookSettlement): boolean {
  const now = Date.now();
  const pos = Number(delivery.key);
  if (settlement.outcome === "delivered") return sql.prepare("DELETE FROM kg_webhook_outbox WHERE pos = ? AND lease_token = ?").run(pos, delivery.token).changes === 1;
  const [status, nextAt] = settlement.outcome === "retry" ? ["pending", now + settlement.delayMs] : ["failed", now];
  return sql.prepare("UPDATE kg_webhook_outbox SET status = ?, next_at = ?, lease_token = NULL, last_error = ? WHERE pos = ? AND lease_token = ?").run(status, nextAt, settlement.error, pos, delivery.token).changes === 1;
}

/** Milliseconds until the next pending row is due, or null. */
export function nextOutboxDueIn(sql: Statements): number | null {
  const at = (sql.prepare("SELECT MIN(next_at) AS at FROM kg_webhook_outbox WHERE status = 'pending'").get() as { at: number | null }).at;
  return at === null ? null : Math.max(0, at - Date.now());
}

/** A task's pending and failed rows, oldest first. */
export function outboxOf(sql: Statements, taskId: string): WebhookOutboxEntry[] {
  const rows = sql.prepare("SELECT * FROM kg_webhook_outbox WHERE task_id = ? ORDER BY pos").all(taskId) as OutboxRow[];
  return rows.map((r) => ({ id: r.id, type: r.type, url: r.url, status: r.status, attempts: r.attempts, last_error: r.last_error }));
}

/**
 * Deletes rows that failed before `cutoff`, and pending ones nobody claimed since then (no process delivers
 * webhooks any more, e.g. the endpoints were removed); returns how many.
 */
export function pruneOutbox(sql: Statements, cutoff: number): number {
  return sql.prepare("DELETE FROM kg_webhook_outbox WHERE next_at < ?").run(cutoff).changes;
}
