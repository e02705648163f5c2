/** Group commit: the writes of one event-loop turn share one transaction, settle after it, and fail alone. */
import Database from "better-sqlite3";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GroupCommit } from "../../../src/tasks/sqlite-group-commit.js";

describe("GroupCommit", () => {
  let dir: string;
  let db: Database.Database;
  let other: Database.Database;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-group-"));
    db = new Database(path.join(dir, "g.db"));
    db.pragma("journal_mode = WAL");
    db.exec("CREATE TABLE t (k TEXT PRIMARY KEY)");
    other = new Database(path.join(dir, "g.db"), { readonly: true });
  });
  afterEach(async () => {
    db.close();
    other.close();
    await rm(dir, { recursive: true, force: true });
  });

  const count = () => (other.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n;

  it("commits the writes of one turn in one transaction, visible to another connection once they resolve", async () => {
    const writes = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t (k) VALUES (?)");
    const done = Promise.all(Array.from({ length: 50 }, (_, i) => writes.run(() => insert.run(`k${i}`).changes)));
    expect(count()).toBe(0);
    expect(await done).toEqual(Array.from({ length: 50 }, () => 1));
    expect(count()).toBe(50);
    expect(writes.stats).toEqual({ commits: 1, writes: 50 });
    await writes.run(() => insert.run("late"));
    expect(writes.stats.commits).toBe(2);
  });

  it("rolls back only the write that throws; the others of its group commit", async () => {
    const writes = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t (k) VALUES (?)");
    const results = await Promise.allSettled([
      writes.run(() => insert.run("a")),
      writes.run(() => {
        insert.run("b");
        insert.run("a"); // duplicate key: this write fails after a partial change
      }),
      writes.run(() => insert.run("c")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(other.prepare("SELECT k FROM t ORDER BY k").pluck().all()).toEqual(["a", "c"]);
  });

  it("rejects every write of a group it cannot commit, storing none", async () => {
    const writes = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t (k) VALUES (?)");
    const pending = [writes.run(() => insert.run("x")), writes.run(() => insert.run("y"))];
    db.close();
    for (const p of pending) await expect(p).rejects.toThrow(/closed/);
    db = new Database(path.join(dir, "g.db"));
    expect(count()).toBe(0);
  });

  it("flush() commits what is queued at once", async () => {
    const writes = new GroupCommit(db);
    const result = writes.run(() => db.prepare("INSERT INTO t (k) VALUES ('now')").run().changes);
    writes.flush();
    expect(count()).toBe(1);
    expect(await result).toBe(1);
  });
});
