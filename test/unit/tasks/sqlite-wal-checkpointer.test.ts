/** The WAL checkpointer thread: takes SQLite's checkpoints out of a busy store's commits, and falls back loudly. */
import { existsSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openTaskDatabase } from "../../../src/tasks/sqlite-schema.js";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import { WalCheckpointer } from "../../../src/tasks/sqlite-wal-checkpointer.js";

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("WalCheckpointer", () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-wal-"));
    file = path.join(dir, "kaygraph.db");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("starts after the given commits, raises the store's own autocheckpoint to a backstop, and folds the WAL into the file", async () => {
    const db = openTaskDatabase(file);
    const errors: unknown[] = [];
    const wal = new WalCheckpointer(db, file, { startAfterCommits: 3, intervalMs: 20, onError: (e) => errors.push(e) });
    wal.committed();
    wal.committed();
    expect(wal.running).toBe(false);
    wal.committed();
    await until(() => wal.running, "the checkpointer thread");
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(16_000);
    // The store's connection only appends to the WAL now (far below the backstop); the file grows by the thread.
    const before = statSync(file).size;
    db.exec("CREATE TABLE filler (body TEXT)");
    const insert = db.prepare("INSERT INTO filler (body) VALUES (?)");
    for (let i = 0; i < 200; i++) insert.run("x".repeat(4000));
    await until(() => statSync(file).size > before + 400_000, "the WAL copied into the database file");
    await wal.stop();
    db.close();
    expect(errors).toEqual([]);
  });

  it("reports a thread that cannot open the file and gives the checkpoints back to SQLite", async () => {
    const db = openTaskDatabase(file);
    const errors: unknown[] = [];
    const wal = new WalCheckpointer(db, path.join(dir, "missing", "nothing.db"), { startAfterCommits: 1, intervalMs: 20, onError: (e) => errors.push(e) });
    db.pragma("wal_autocheckpoint = 16000");
    wal.committed();
    await until(() => errors.length > 0, "the error report");
    expect(String(errors[0])).toMatch(/WAL checkpointer thread stopped .*checkpoints run inside commits again/);
    expect(wal.running).toBe(false);
    expect(db.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    await wal.stop();
    db.close();
  });

  it("a busy store starts one and stops it on close, leaving no WAL file behind", async () => {
    const store = SqliteTaskStore.open({ file, maxLost: 3, retentionMs: 60_000, maxRetained: 1000, idempotencyTtlMs: 60_000, walCheckpointer: { startAfterCommits: 5, intervalMs: 20 } });
    for (let i = 0; i < 40; i++) await store.submit({ graph: "g", version: 1, input: { i } });
    expect(existsSync(`${file}-wal`)).toBe(true);
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = SqliteTaskStore.open({ file, maxLost: 3, retentionMs: 60_000, maxRetained: 1000, idempotencyTtlMs: 60_000 });
    expect((await again.list({ limit: 100 })).tasks).toHaveLength(40);
    await again.close();
  });
});
