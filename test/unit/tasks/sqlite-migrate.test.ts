/** Schema upgrades of the embedded store: a file written by an older version opens with everything in it. */
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import { checkEventLog, TEST_SETTINGS } from "./helpers.js";

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-migrate-"));
  file = path.join(dir, "kaygraph.db");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Turns a current file back into schema version 2's shape: events keyed by the task's UUID. */
function downgradeToVersion2(): void {
  const db = new Database(file);
  db.exec(`
    CREATE TABLE old_events (task_id TEXT NOT NULL REFERENCES kg_tasks (id) ON DELETE CASCADE, seq INTEGER NOT NULL, body TEXT NOT NULL, PRIMARY KEY (task_id, seq)) WITHOUT ROWID;
    INSERT INTO old_events SELECT t.id, e.seq, e.body FROM kg_task_events e JOIN kg_tasks t ON t.pos = e.task_pos;
    DROP TABLE kg_task_events;
    ALTER TABLE old_events RENAME TO kg_task_events;
  `);
  db.pragma("user_version = 2");
  db.close();
}

it("a version-2 file (events keyed by task id) opens with its tasks and events, and its tasks go on", async () => {
  const old = SqliteTaskStore.open({ ...TEST_SETTINGS, file });
  const { task: done } = await old.submit({ graph: "g", version: 1, input: { n: 1 } });
  const { task: running } = await old.submit({ graph: "g", version: 1, input: { n: 2 } });
  const first = await old.claim({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) });
  expect(first?.task.id).toBe(done.id);
  await old.appendEvents(first!, [{ type: "node_start", ts: 1, node: "a" }]);
  expect(await old.complete(first!, { ok: 1 })).toBe("ok");
  await old.close();
  downgradeToVersion2();

  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, file });
  const events = await store.events(done.id);
  expect(events.map((e) => e.type)).toEqual(["node_start", "result"]);
  checkEventLog(events);
  const lease = await store.claim({ leaseMs: 10_000, signal: AbortSignal.timeout(5_000) });
  expect(lease?.task.id).toBe(running.id);
  expect(await store.appendEvents(lease!, [{ type: "node_start", ts: 2, node: "a" }])).toBe(true);
  expect(await store.complete(lease!, { ok: 2 })).toBe("ok");
  checkEventLog(await store.events(running.id));
  await store.close();
  const db = new Database(file);
  expect(db.pragma("user_version", { simple: true })).toBe(3);
  // Deleting a task still deletes its events (the new table's foreign key, as retention relies on).
  db.pragma("foreign_keys = ON");
  const count = () => (db.prepare("SELECT COUNT(*) AS n FROM kg_task_events").get() as { n: number }).n;
  expect(count()).toBe(4);
  db.prepare("DELETE FROM kg_tasks WHERE id = ?").run(done.id);
  expect(count()).toBe(2);
  db.close();
});
