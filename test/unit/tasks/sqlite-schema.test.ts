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

/** A database file as a version-2 store left it, with one pending task; `downgrade` turns today's file back. */
async function versionTwoFile(downgrade: (db: Database.Database) => void): Promise<{ file: string; taskId: string }> {
  const file = await tempFile();
  const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
  const { task } = await store.submit({ graph: "g", version: 1, input: { a: 1 } });
  await store.close();
  const db = new Database(file);
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
  it("a version-2 file without the outbox and the trace/webhook columns gets them, keeps its tasks, and is version 3", async () => {
    const { file, taskId } = await versionTwoFile((db) => {
      db.exec("DROP TABLE kg_webhook_outbox; ALTER TABLE kg_tasks DROP COLUMN trace_context; ALTER TABLE kg_tasks DROP COLUMN webhooks;");
    });
    expect(shape(file)).toMatchObject({ version: 2, outbox: undefined });
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    onTestFinished(() => store.close());
    expect(shape(file)).toMatchObject({ version: 3, outbox: "kg_webhook_outbox", columns: expect.arrayContaining(["trace_context", "webhooks"]) });
    expect(await store.get(taskId)).toMatchObject({ id: taskId, graph: "g", status: "pending" });
    // The outbox works: a task with an endpoint announces its end there.
    const { task } = await store.submit({ graph: "g", version: 1, input: {}, webhooks: [{ url: "http://127.0.0.1:1/hook", events: ["task.cancelled"] }] });
    await store.cancel(task.id);
    expect(await store.webhookMessages(task.id)).toMatchObject([{ type: "task.cancelled", url: "http://127.0.0.1:1/hook" }]);
  });

  it("a version-2 file that already has them (added on open before version 3) migrates without error", async () => {
    const { file, taskId } = await versionTwoFile(() => undefined);
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, onError: () => undefined, file });
    onTestFinished(() => store.close());
    expect(shape(file)).toMatchObject({ version: 3, outbox: "kg_webhook_outbox" });
    expect(await store.get(taskId)).toMatchObject({ id: taskId, status: "pending" });
  });
});
