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

  it("while another process holds the write lock, waits without blocking the event loop, then commits", async () => {
    const writes = new GroupCommit(db); // busy timeout 5 s (better-sqlite3's default)
    const holder = new Database(path.join(dir, "g.db"));
    holder.exec("BEGIN IMMEDIATE");
    let settled = false;
    const result = writes.run(() => db.prepare("INSERT INTO t (k) VALUES ('late')").run().changes).finally(() => (settled = true));
    // Timers keep firing while the write waits: SQLite's busy handler would have held this thread for 5 s.
    const started = Date.now();
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 2));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(settled).toBe(false);
    holder.exec("COMMIT");
    holder.close();
    expect(await result).toBe(1);
    expect(count()).toBe(1);
  });

  it("fails the group once the lock stays taken past the busy timeout, storing none of it", async () => {
    db.pragma("busy_timeout = 100");
    const writes = new GroupCommit(db);
    const holder = new Database(path.join(dir, "g.db"));
    holder.exec("BEGIN IMMEDIATE");
    const started = Date.now();
    await expect(writes.run(() => db.prepare("INSERT INTO t (k) VALUES ('never')").run())).rejects.toMatchObject({ code: "SQLITE_BUSY" });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    holder.exec("ROLLBACK");
    holder.close();
    // The connection's own busy timeout is as it was, and the next write goes through.
    expect(db.pragma("busy_timeout", { simple: true })).toBe(100);
    await writes.run(() => db.prepare("INSERT INTO t (k) VALUES ('next')").run());
    expect(other.prepare("SELECT k FROM t").pluck().all()).toEqual(["next"]);
  });

  it("calls beforeCommit inside each group's transaction after its writes, and afterCommit only once it committed", async () => {
    const writes = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t (k) VALUES (?)");
    const seen: string[] = [];
    writes.beforeCommit = () => seen.push(`before: in transaction ${db.inTransaction}, ${(db.prepare("SELECT COUNT(*) FROM t").pluck().get() as number)} rows, ${count()} committed`);
    writes.afterCommit = () => seen.push(`after: ${count()} committed`);
    await Promise.all([writes.run(() => insert.run("a")), writes.run(() => insert.run("b"))]);
    expect(seen).toEqual(["before: in transaction true, 2 rows, 0 committed", "after: 2 committed"]);
    // A group that cannot commit calls neither.
    seen.length = 0;
    const holder = new Database(path.join(dir, "g.db"));
    holder.exec("BEGIN IMMEDIATE");
    db.pragma("busy_timeout = 50");
    const late = new GroupCommit(db);
    late.beforeCommit = writes.beforeCommit;
    late.afterCommit = writes.afterCommit;
    await expect(late.run(() => insert.run("c"))).rejects.toMatchObject({ code: "SQLITE_BUSY" });
    holder.exec("ROLLBACK");
    holder.close();
    expect(seen).toEqual([]);
  });

  it("runLast(): the write runs after every run() write of its group, even those queued after it, in the same commit", async () => {
    const writes = new GroupCommit(db);
    const insert = db.prepare("INSERT INTO t (k) VALUES (?)");
    const seen = (): number => (db.prepare("SELECT COUNT(*) AS n FROM t").get() as { n: number }).n;
    const order: string[] = [];
    const done = Promise.all([
      writes.run(() => order.push(`a:${insert.run("a").changes}`)),
      writes.runLast(() => order.push(`last1 sees ${seen()}`)),
      writes.run(() => order.push(`b:${insert.run("b").changes}`)),
      writes.runLast(() => order.push(`last2 sees ${seen()}`)),
      writes.run(() => order.push(`c:${insert.run("c").changes}`)),
    ]);
    await done;
    expect(order).toEqual(["a:1", "b:1", "c:1", "last1 sees 3", "last2 sees 3"]);
    expect(writes.stats).toEqual({ commits: 1, writes: 5 });
  });

  it("runLast(): while another process holds the lock, the group waits and its last writes still run last", async () => {
    const writes = new GroupCommit(db);
    const holder = new Database(path.join(dir, "g.db"));
    holder.exec("BEGIN IMMEDIATE");
    const order: string[] = [];
    const first = [writes.run(() => order.push("a")), writes.runLast(() => order.push("last"))];
    // The group could not begin; what is queued meanwhile joins it, before its last write.
    await new Promise((resolve) => setImmediate(resolve));
    const later = writes.run(() => order.push("b"));
    holder.exec("COMMIT");
    holder.close();
    await Promise.all([...first, later]);
    expect(order).toEqual(["a", "b", "last"]);
  });

  it("flush() commits what is queued at once", async () => {
    const writes = new GroupCommit(db);
    const result = writes.run(() => db.prepare("INSERT INTO t (k) VALUES ('now')").run().changes);
    writes.flush();
    expect(count()).toBe(1);
    expect(await result).toBe(1);
  });
});
