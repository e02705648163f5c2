/**
 * Group commit for the embedded store: every write a process makes during one turn of the event loop (submits,
 * claims, events, finishes from many requests and tasks at once) runs in ONE `BEGIN IMMEDIATE` transaction,
 * each write in its own savepoint, and every caller's promise settles only after that transaction committed.
 *
 * Why: each transaction takes the database's write lock, which the processes of `serve --workers N` and
 * `kaygraph worker` share; one lock and one commit per turn instead of one per write is what lets a busy
 * process keep up. Nothing is acknowledged early: a 202 (or a lease, or a finished task) is only reported
 * once its transaction is committed, so it is exactly as durable as with one transaction per write. The
 * window costs no latency when idle (a lone write commits on the next turn) and grows with the load.
 */
import type Database from "better-sqlite3";

interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Queues synchronous writes and commits them together on the next turn of the event loop.
 *
 * @example
 * const writes = new GroupCommit(db);
 * const id = await writes.run(() => insertTask.run(...).lastInsertRowid); // resolved after COMMIT
 */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** Commits so far and writes in them (for tests and diagnostics). */
  readonly stats = { commits: 0, writes: 0 };
  /** Called after each committed group (the store's WAL checkpointer counts them). */
  afterCommit: (() => void) | undefined;
  private readonly sql: { begin: Database.Statement; commit: Database.Statement; rollback: Database.Statement; savepoint: Database.Statement; release: Database.Statement; undo: Database.Statement };

  constructor(private readonly db: Database.Database) {
    this.sql = {
      begin: db.prepare("BEGIN IMMEDIATE"),
      commit: db.prepare("COMMIT"),
      rollback: db.prepare("ROLLBACK"),
      savepoint: db.prepare("SAVEPOINT kg_write"),
      release: db.prepare("RELEASE kg_write"),
      undo: db.prepare("ROLLBACK TO kg_write"),
    };
  }

  /**
   * Runs `write` inside the next group transaction. It must be synchronous and may throw: its own savepoint
   * is rolled back and its promise rejects, the other writes of the group are not affected. If the
   * transaction itself cannot commit (database locked past the busy timeout, disk full), every write of the
   * group rejects and none of them is stored.
   */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now (close() calls it so nothing queued is dropped). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      if (!this.db.open) throw new Error("The task database is closed.");
      this.commitGroup(group, outcomes);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    this.stats.commits++;
    this.stats.writes += group.length;
    this.afterCommit?.();
    group.forEach((item, i) => {
      const outcome = outcomes[i] as { ok: boolean; value: unknown };
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.value);
    });
  }

  /**
   * BEGIN IMMEDIATE, the writes, COMMIT. Writes rarely throw, so they first run without savepoints (two
   * statements less per write); if one throws, the whole transaction is rolled back and the group runs again
   * with each write between SAVEPOINT and RELEASE (ROLLBACK TO on a throw), so only that write is undone.
   * Writes must therefore be safe to run twice in JS (they read what they change inside the transaction).
   */
  private commitGroup(group: Pending[], outcomes: { ok: boolean; value: unknown }[]): void {
    const { sql } = this;
    sql.begin.run();
    try {
      if (!this.runAll(group, outcomes)) {
        if (this.db.inTransaction) sql.rollback.run();
        outcomes.length = 0;
        sql.begin.run();
        this.runEachAlone(group, outcomes);
      }
      sql.commit.run();
    } catch (error) {
      // SQLite may already have rolled back (disk full, I/O error); only roll back what is still open.
      if (this.db.inTransaction) sql.rollback.run();
      throw error;
    }
  }

  /** Runs the writes one after the other; false at the first that throws. */
  private runAll(group: Pending[], outcomes: { ok: boolean; value: unknown }[]): boolean {
    for (const item of group) {
      try {
        outcomes.push({ ok: true, value: item.write() });
      } catch {
        return false;
      }
    }
    return true;
  }

  /** Runs each write in its own savepoint: a throwing write undoes only its own changes. */
  private runEachAlone(group: Pending[], outcomes: { ok: boolean; value: unknown }[]): void {
    const { sql } = this;
    for (const item of group) {
      sql.savepoint.run();
      try {
        outcomes.push({ ok: true, value: item.write() });
      } catch (error) {
        sql.undo.run();
        outcomes.push({ ok: false, value: error });
      }
      sql.release.run();
    }
  }
}
