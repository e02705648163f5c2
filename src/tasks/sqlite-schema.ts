/**
 * The embedded store's SQLite schema and row mapping. One file (`.kaygraph/kaygraph.db` by default) holds
 * tasks, their events, idempotency keys, the doorbell registry and the webhook outbox, shared by every process
 * on the machine.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { Errors, KaygraphError } from "../errors.js";
import type { ClaimedTask, TaskRecord, TaskStatus } from "./types.js";

/**
 * The file format's version (PRAGMA user_version), upgraded in place by {@link migrate}. The store's claim and sweep
 * queries name `kg_tasks_pending` and `kg_tasks_running` (INDEXED BY: without it SQLite's planner takes
 * `kg_tasks_status` and sorts every pending row), so a later version must keep those two indexes under those names:
 * a process of this version still running on an upgraded file would otherwise fail every claim and sweep.
 */
const SCHEMA_VERSION = 6;

const DDL = `
CREATE TABLE IF NOT EXISTS kg_tasks (
  pos INTEGER PRIMARY KEY AUTOINCREMENT,   -- list order (newest first) and cursor position
  id TEXT NOT NULL UNIQUE,
  graph TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  result TEXT,
  error TEXT,
  request_id TEXT,
  owner TEXT,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  completed_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  lost INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  backoff_ms INTEGER NOT NULL,
  timeout_ms INTEGER,
  available_at INTEGER NOT NULL,
  lease_token TEXT,
  lease_expires_at INTEGER,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  event_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS kg_tasks_claim ON kg_tasks (status, available_at);
CREATE INDEX IF NOT EXISTS kg_tasks_lease ON kg_tasks (status, lease_expires_at);
CREATE INDEX IF NOT EXISTS kg_tasks_owner ON kg_tasks (owner, pos);
CREATE INDEX IF NOT EXISTS kg_tasks_status ON kg_tasks (status, pos);
CREATE INDEX IF NOT EXISTS kg_tasks_graph ON kg_tasks (graph, pos);
CREATE INDEX IF NOT EXISTS kg_tasks_done ON kg_tasks (completed_at) WHERE completed_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS kg_task_events (
  task_id TEXT NOT NULL REFERENCES kg_tasks (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kg_idempotency (
  scope TEXT NOT NULL,
  key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  task_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kg_doorbells (
  port INTEGER PRIMARY KEY,
  pid INTEGER NOT NULL,
  seen_at INTEGER NOT NULL
);
`;

/** Options of {@link openTaskDatabase}. */
export interface OpenTaskDatabaseOptions {
  /** How long a writer waits for another process's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /**
   * Open only an existing file, never create one (better-sqlite3 `fileMustExist`): for every process started
   * after the service's first open, so none creates a second, empty store beside one that was deleted.
   */
  mustExist?: boolean;
}

/**
 * Opens (creating if needed, unless `mustExist`) the database: WAL so readers never block the writer, a busy timeout so
 * concurrent writers from other processes wait instead of failing, foreign keys for event cleanup.
 * `synchronous = NORMAL` is WAL's usual pairing: a commit survives a process crash (kill -9); only an OS
 * crash or power loss can drop the last commits.
 *
 * @example
 * const db = openTaskDatabase("/srv/app/.kaygraph/kaygraph.db");
 */
export function openTaskDatabase(file: string, options: OpenTaskDatabaseOptions = {}): Database.Database {
  const { busyTimeoutMs = 5000, mustExist = false } = options;
  try {
    if (!mustExist) mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file, { fileMustExist: mustExist });
    db.pragma("journal_mode = WAL");
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    migrate(db);
    return db;
  } catch (error) {
    const missing = mustExist && (error as { code?: unknown }).code === "SQLITE_CANTOPEN";
    const why = missing ? "the file does not exist (this process joins a running service, so it never creates one)" : error instanceof Error ? error.message : String(error);
    throw new KaygraphError(Errors.StoreUnavailable, { message: `Could not open the task database ${file}: ${why}`, cause: error });
  }
}

/** Version 2: interrupts and checkpoints (durable runs). */
const DDL_2 = `
ALTER TABLE kg_tasks ADD COLUMN interrupt TEXT;
ALTER TABLE kg_tasks ADD COLUMN checkpoint TEXT;
ALTER TABLE kg_tasks ADD COLUMN interrupted_at INTEGER;
ALTER TABLE kg_tasks ADD COLUMN resumes INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS kg_tasks_interrupted ON kg_tasks (interrupted_at) WHERE interrupted_at IS NOT NULL;
`;

/**
 * Version 3: the webhook outbox (see sqlite-outbox.ts) and the task columns for trace context and webhook
 * endpoints. Before version 3 these were added on every open, outside the versioning, so a version-2 file may
 * have any of them already: each is created only if missing.
 */
const DDL_3_OUTBOX = `
CREATE TABLE IF NOT EXISTS kg_webhook_outbox (
  pos INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,               -- webhook-id: one per event
  task_id TEXT NOT NULL,          -- no foreign key: a message outlives its pruned task
  type TEXT NOT NULL,
  url TEXT NOT NULL,
  ts INTEGER NOT NULL,            -- when the event happened
  data TEXT NOT NULL,             -- the task record right after the transition
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,       -- due time; while claimed, the lease expiry; once failed, when it failed
  lease_token TEXT,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS kg_webhook_outbox_due ON kg_webhook_outbox (status, next_at);
CREATE INDEX IF NOT EXISTS kg_webhook_outbox_task ON kg_webhook_outbox (task_id);
`;
const DDL_3_COLUMNS: ReadonlyArray<[name: string, type: string]> = [["trace_context", "TEXT"], ["webhooks", "TEXT"]];

function migrate3(db: Database.Database): void {
  const have = new Set((db.prepare("PRAGMA table_info(kg_tasks)").all() as Array<{ name: string }>).map((c) => c.name));
  for (const [name, type] of DDL_3_COLUMNS) if (!have.has(name)) db.exec(`ALTER TABLE kg_tasks ADD COLUMN ${name} ${type}`);
  db.exec(DDL_3_OUTBOX);
}

/**
 * Version 4: events keyed by the task's `pos` (an integer that grows with each task) instead of its UUID, so
 * the events of tasks running together sit in the same few pages: a group commit writes about a third of the
 * pages it wrote with random UUID keys (measured: 26k WAL frames instead of 81k for the same writes).
 */
const DDL_4 = `
CREATE TABLE kg_task_events_4 (
  task_pos INTEGER NOT NULL REFERENCES kg_tasks (pos) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (task_pos, seq)
) WITHOUT ROWID;
INSERT INTO kg_task_events_4 (task_pos, seq, body) SELECT t.pos, e.seq, e.body FROM kg_task_events e JOIN kg_tasks t ON t.id = e.task_id;
DROP TABLE kg_task_events;
ALTER TABLE kg_task_events_4 RENAME TO kg_task_events;
`;

/**
 * Version 5: events in a rowid table, in the order they are written, found by a unique index on (task_pos, seq).
 * Keyed by (task_pos, seq) the events of the tasks running together went to a leaf page per task or two, so a
 * group commit of a few events per task (a durable run writes its events with each node's checkpoint) rewrote
 * one page per task: 14.3 of a commit's 18.9 WAL frames for 32 ten-node durable tasks. Appended by rowid they
 * fill the table's last pages and the index's small entries a few more: 7.2 frames (11.9 per commit in all).
 */
const DDL_5 = `
CREATE TABLE kg_task_events_5 (
  id INTEGER PRIMARY KEY,
  task_pos INTEGER NOT NULL REFERENCES kg_tasks (pos) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL
);
INSERT INTO kg_task_events_5 (task_pos, seq, body) SELECT task_pos, seq, body FROM kg_task_events ORDER BY task_pos, seq;
DROP TABLE kg_task_events;
ALTER TABLE kg_task_events_5 RENAME TO kg_task_events;
CREATE UNIQUE INDEX kg_task_events_seq ON kg_task_events (task_pos, seq);
`;

/**
 * Version 6: the claim and lease indexes hold only the rows they are for: pending tasks by `available_at` (the
 * claim's order, `pos` being the rowid every index ends with), running tasks by `lease_expires_at` (the sweep).
 * Keyed by (status, …) every task sat in both for its whole life, so each submit, claim and ending moved entries
 * in both; now a submit adds one, a claim moves one from the first to the second, an ending removes one
 * (six index writes per task fewer, and their pages in each group commit).
 */
const DDL_6 = `
DROP INDEX IF EXISTS kg_tasks_claim;
DROP INDEX IF EXISTS kg_tasks_lease;
CREATE INDEX IF NOT EXISTS kg_tasks_pending ON kg_tasks (available_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS kg_tasks_running ON kg_tasks (lease_expires_at) WHERE status = 'running';
`;

function migrate(db: Database.Database): void {
  // IMMEDIATE: several processes may start at once on a fresh file; one creates, the others see it done.
  db.transaction(() => {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return;
    if (version < 1) db.exec(DDL);
    if (version < 2) db.exec(DDL_2);
    if (version < 3) migrate3(db);
    if (version < 4) db.exec(DDL_4);
    if (version < 5) db.exec(DDL_5);
    if (version < 6) db.exec(DDL_6);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}

/** A row of kg_tasks. */
export interface TaskRow {
  pos: number;
  id: string;
  graph: string;
  version: number;
  status: TaskStatus;
  input: string;
  result: string | null;
  error: string | null;
  request_id: string | null;
  owner: string | null;
  created_at: number;
  started_at: number | null;
  completed_at: number | null;
  attempts: number;
  lost: number;
  max_attempts: number;
  backoff_ms: number;
  timeout_ms: number | null;
  available_at: number;
  lease_token: string | null;
  lease_expires_at: number | null;
  cancel_requested: number;
  event_seq: number;
  trace_context: string | null;
  interrupt: string | null;
  checkpoint: string | null;
  interrupted_at: number | null;
  resumes: number;
  /** JSON `[{ url, events }]` of the task's webhook endpoints, or null. */
  webhooks: string | null;
}

/** The columns a lease's ending reads and changes (not the growing ones: input, result, checkpoint). */
export type FenceRow = Pick<TaskRow, "pos" | "id" | "status" | "lease_token" | "cancel_requested" | "event_seq" | "attempts" | "lost" | "webhooks">;

/** Selects a {@link FenceRow} by task id. */
export const SELECT_FENCE_ROW = "SELECT pos, id, status, lease_token, cancel_requested, event_seq, attempts, lost, webhooks FROM kg_tasks WHERE id = ?";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The public record of a row. */
export function rowToRecord(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    graph: row.graph,
    version: row.version,
    status: row.status,
    created_at: new Date(row.created_at).toISOString(),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    attempts: row.attempts,
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error === null ? null : JSON.parse(row.error),
    request_id: row.request_id,
    owner: row.owner,
    interrupt: row.interrupt === null ? null : JSON.parse(row.interrupt),
  };
}

/** The worker's view of a claimed row. */
export function rowToClaimed(row: TaskRow): ClaimedTask {
  return {
    ...rowToRecord(row),
    input: JSON.parse(row.input),
    max_attempts: row.max_attempts,
    backoff_ms: row.backoff_ms,
    timeout_ms: row.timeout_ms,
    lost: row.lost,
    trace_context: row.trace_context === null ? null : (JSON.parse(row.trace_context) as Record<string, string>),
    resumes: row.resumes,
    checkpoint: row.checkpoint === null ? null : JSON.parse(row.checkpoint),
  };
}

/** Prepared statements, compiled once per SQL text (better-sqlite3 does not cache them itself). */
export class Statements {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(readonly db: Database.Database) {}

  /** The cached statement of `sql`. */
  prepare(sql: string): Database.Statement {
    let statement = this.cache.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.cache.set(sql, statement);
    }
    return statement;
  }

  /** One task row by id. */
  task(id: string): TaskRow | undefined {
    return this.prepare("SELECT * FROM kg_tasks WHERE id = ?").get(id) as TaskRow | undefined;
  }
}
