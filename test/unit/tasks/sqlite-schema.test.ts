/** The embedded store's schema migration: a database file of an older version opens and is brought up to date. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import { TEST_SETTINGS } from "./helpers.js";

async function tempFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-schema-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, "kg.db");
}

/** Version 2's events table: keyed by the task's UUID (version 4 keys them by the task's pos). */
const EVENTS_BY_TASK_ID = `
  CREATE TABLE old_events (task_id TEXT NOT NULL REFERENCES kg_tasks (id) ON DELETE CASCADE, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (task_id, seq)) WITHOUT ROWID;
  INSERT INTO old_events SELECT t.id, e.seq, e.body FROM kg_task_events e JOIN kg_tasks t ON t.pos = e.task_pos;
  DROP TABLE kg_task_events;
  ALTER TABLE old_events RENAME TO kg_task_events;
`;

/**
 * A database file as a version-2 store left it, with one pending task; `before` may write more through today's
 * store first, `downgrade` turns more of today's file back.
 */
async function versionTwoFile(downgrade: (db: Database.Database) => void, before?: (store: SqliteTaskStore) => Promise<void>): Promise<{ file: string; taskId: string }> {
  const file = await tempFile();
  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
  await before?.(store);
  const { task } = await store.submit({ graph: "g", version: 1, input: { a: 1 } });
  await store.close();
  const db = new Database(file);
  db.exec(EVENTS_BY_TASK_ID);
  downgrade(db);
  db.pragma("user_version = 2");
  db.close();
  return { file, taskId: task.id };
}

function shape(file: string) {
  const db = new Database(file, { readonly: true });
  try {
    return {
      version: db.pragma("user_version", { simple: true }),
      outbox: db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'kg_webhook_outbox'").pluck().get(),
      columns: (db.prepare("PRAGMA table_info(kg_tasks)").all() as Array<{ name: string }>).map((c) => c.name),
    };
  } finally {
    db.close();
  }
}

describe("sqlite schema migration", () => {
  it("a version-2 file without the outbox and the trace/webhook columns gets them, keeps its tasks, and is version 6", async () => {
    const { file, taskId } = await versionTwoFile((db) => {
      db.exec("DROP TABLE kg_webhook_outbox; ALTER TABLE kg_tasks DROP COLUMN trace_context; ALTER TABLE kg_tasks DROP COLUMN webhooks;");
    });
    expect(shape(file)).toMatchObject({ version: 2, outbox: undefined });
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    onTestFinished(() => store.close());
    expect(shape(file)).toMatchObject({ version: 6, outbox: "kg_webhook_outbox", columns: expect.arrayContaining(["trace_context", "webhooks"]) });
    expect(await store.get(taskId)).toMatchObject({ id: taskId, graph: "g", status: "pending" });
    // The outbox works: a task with an endpoint announces its end there.
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, webhooks: [{ url: "http://127.0.0.1:1/hook", events: ["task.cancelled"] }] });
    await store.cancel(task.id);
    expect(await store.webhookMessages(task.id)).toMatchObject([{ type: "task.cancelled", url: "http://127.0.0.1:1/hook" }]);
  });

  it("a version-2 file's events (keyed by task id) are kept in order, deletion still cascades, and its tasks go on", async () => {
    let done = "";
    const { file, taskId } = await versionTwoFile(() => undefined, async (old) => {
      const { task } = await old.submit({ graph: "g", version: 1, input: { n: 1 } });
      done = task.id;
      const lease = await old.claim({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) });
      await old.appendEvents(lease!, [{ type: "node_start", ts: 1, node: "a" }]);
      expect(await old.complete(lease!, { ok: 1 })).toBe("ok");
    });
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    const events = await store.events(done);
    expect(events.map((e) => [e.seq, e.type])).toEqual([[1, "node_start"], [2, "result"]]);
    const lease = await store.claim({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) });
    expect(lease?.task.id).toBe(taskId);
    expect(await store.appendEvents(lease!, [{ type: "node_start", ts: 2, node: "a" }])).toBe(true);
    expect(await store.complete(lease!, { ok: 2 })).toBe("ok");
    expect((await store.events(taskId)).map((e) => [e.seq, e.type])).toEqual([[1, "node_start"], [2, "result"]]);
    await store.close();
    const db = new Database(file);
    onTestFinished(() => void db.close());
    expect(db.pragma("user_version", { simple: true })).toBe(6);
    // Deleting a task still deletes its events (the new table's foreign key, as retention relies on).
    db.pragma("foreign_keys = ON");
    const count = () => (db.prepare("SELECT COUNT(*) AS n FROM kg_task_events").get() as { n: number }).n;
    expect(count()).toBe(4);
    db.prepare("DELETE FROM kg_tasks WHERE id = ?").run(done);
    expect(count()).toBe(2);
  });

  it("a version-4 file's events (keyed by task pos) move to the rowid table in order; seqs stay unique per task", async () => {
    const file = await tempFile();
    const old = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await old.submit({ graph: "g", version: 1, input: { i } })).task.id);
    for (let i = 0; i < 2; i++) {
      const lease = await old.claim({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) });
      await old.appendEvents(lease!, [{ type: "node_start", ts: 1, node: "a" }, { type: "node_end", ts: 2, node: "a", action: "default", duration_ms: 1 }]);
      expect(await old.complete(lease!, { i })).toBe("ok");
    }
    await old.close();
    const db = new Database(file);
    db.exec(`
      CREATE TABLE v4_events (task_pos INTEGER NOT NULL REFERENCES kg_tasks (pos) ON DELETE CASCADE, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (task_pos, seq)) WITHOUT ROWID;
      INSERT INTO v4_events SELECT task_pos, seq, body FROM kg_task_events;
      DROP TABLE kg_task_events;
      ALTER TABLE v4_events RENAME TO kg_task_events;
    `);
    db.pragma("user_version = 4");
    db.close();
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    onTestFinished(() => store.close());
    expect(shape(file)).toMatchObject({ version: 6 });
    for (const id of ids) expect((await store.events(id)).map((e) => [e.seq, e.type])).toEqual([[1, "node_start"], [2, "node_end"], [3, "result"]]);
    const check = new Database(file);
    onTestFinished(() => void check.close());
    // A rowid table now, and a second row with a task's seq is refused as before.
    expect(check.prepare("SELECT sql FROM sqlite_master WHERE name = 'kg_task_events'").pluck().get()).toContain("id INTEGER PRIMARY KEY");
    const pos = check.prepare("SELECT pos FROM kg_tasks WHERE id = ?").pluck().get(ids[0]);
    expect(() => check.prepare("INSERT INTO kg_task_events (task_pos, seq, body) VALUES (?, 1, '{}')").run(pos)).toThrow(/UNIQUE/);
  });

  it("a version-2 file that already has them (added on open before version 3) migrates without error", async () => {
    const { file, taskId } = await versionTwoFile(() => undefined);
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    onTestFinished(() => store.close());
    expect(shape(file)).toMatchObject({ version: 6, outbox: "kg_webhook_outbox" });
    expect(await store.get(taskId)).toMatchObject({ id: taskId, status: "pending" });
  });

  it("a version-5 file's claim and lease indexes become partial (pending / running rows only); its tasks are claimed in order and swept", async () => {
    const file = await tempFile();
    const old = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await old.submit({ graph: "g", version: 1, input: { i } })).task.id);
    const running = await old.claim({ leaseMs: 1, signal: AbortSignal.timeout(5_000) });
    expect(running?.task.id).toBe(ids[0]);
    await old.close();
    const db = new Database(file);
    db.exec(`
      DROP INDEX kg_tasks_pending; DROP INDEX kg_tasks_running;
      CREATE INDEX kg_tasks_claim ON kg_tasks (status, available_at);
      CREATE INDEX kg_tasks_lease ON kg_tasks (status, lease_expires_at);
    `);
    db.pragma("user_version = 5");
    db.close();
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    onTestFinished(() => store.close());
    const check = new Database(file, { readonly: true });
    onTestFinished(() => void check.close());
    expect(check.pragma("user_version", { simple: true })).toBe(6);
    const indexes = check.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'kg_tasks' AND name LIKE 'kg_tasks_%'").all() as Array<{ name: string; sql: string }>;
    const names = indexes.map((i) => i.name);
    expect(names).not.toContain("kg_tasks_claim");
    expect(names).not.toContain("kg_tasks_lease");
    expect(indexes.find((i) => i.name === "kg_tasks_pending")?.sql).toMatch(/WHERE status = 'pending'/);
    expect(indexes.find((i) => i.name === "kg_tasks_running")?.sql).toMatch(/WHERE status = 'running'/);
    const count = (name: string) => (check.prepare(`SELECT COUNT(*) AS n FROM kg_tasks INDEXED BY ${name} WHERE status = '${name === "kg_tasks_pending" ? "pending" : "running"}'`).get() as { n: number }).n;
    expect([count("kg_tasks_pending"), count("kg_tasks_running")]).toEqual([2, 1]);
    // The claim takes the task available longest first; the old file's expired lease is swept back (available
    // from then on, so after the task still pending).
    const claim = () => store.claim({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) });
    const next = await claim();
    expect(next?.task.id).toBe(ids[1]);
    expect((await store.sweep()).requeued).toBe(1);
    expect((await claim())?.task.id).toBe(ids[2]);
    expect((await claim())?.task.id).toBe(ids[0]);
    expect(await store.complete(next!, { ok: 1 })).toBe("ok");
    expect([count("kg_tasks_pending"), count("kg_tasks_running")]).toEqual([0, 2]);
  });
});
