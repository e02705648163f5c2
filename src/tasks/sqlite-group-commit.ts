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
  /** Writes that run after every other write of their group (see {@link runLast}). */
  private tail: Pending[] = [];
  private scheduled: { cancel: () => void } | undefined;
  /** When the write lock was first found taken by another process (this wait), or undefined. */
  private busySince: number | undefined;
  private busyTries = 0;
  private readonly busyTimeoutMs: number;
  /** The statement that sets the busy timeout back after a try without waiting (see {@link begin}). */
  private readonly restoreBusyTimeout: string;
  /** Commits so far and writes in them (for tests and diagnostics). */
  readonly stats = { commits: 0, writes: 0 };
  /**
   * Called inside each group's transaction after its writes, just before COMMIT (the store reads the doorbell
   * registrations there); it must not throw.
   */
  beforeCommit: (() => void) | undefined;
  /** Called after each committed group (the store's WAL checkpointer counts them). */
  afterCommit: (() => void) | undefined;
  private readonly sql: {
    begin: Database.Statement; commit: Database.Statement; rollback: Database.Statement; savepoint: Database.Statement;
    release: Database.Statement; undo: Database.Statement;
  };

  constructor(private readonly db: Database.Database) {
    this.busyTimeoutMs = db.pragma("busy_timeout", { simple: true }) as number;
    this.restoreBusyTimeout = `PRAGMA busy_timeout = ${this.busyTimeoutMs}`;
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
      this.schedule(false);
    });
  }

  /**
   * As {@link run}, but `write` runs after every write {@link run} queues for the same group, even those queued
   * after it (writes queued with `runLast` keep their order among themselves): it sees what they changed (a
   * claim that takes the tasks the group's submits insert).
   */
  runLast<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.tail.push({ write, resolve: resolve as (value: unknown) => void, reject });
      this.schedule(false);
    });
  }

  /**
   * Commits what is queued now. If another process holds the write lock, the group is tried again on a later
   * turn instead of sleeping in SQLite's busy handler, which would block this process's event loop (HTTP,
   * lease renewals, other runs) for milliseconds each time; past the database's busy timeout the group fails
   * as before. `wait`: take the lock now, waiting for it inside SQLite (close() does, so nothing is dropped).
   */
  flush(options: { wait?: boolean } = {}): void {
    this.scheduled?.cancel();
    this.scheduled = undefined;
    const first = this.queue.length;
    const group = this.tail.length === 0 ? this.queue : [...this.queue, ...this.tail];
    this.queue = [];
    this.tail = [];
    if (group.length === 0) return;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      if (!this.db.open) throw new Error("The task database is closed.");
      const waited = this.busySince !== undefined && Date.now() - this.busySince >= this.busyTimeoutMs;
      if (!this.begin(options.wait === true || waited)) {
        // Not begun, so no write of the group ran: they go first again, with what was queued meanwhile.
        this.queue = [...group.slice(0, first), ...this.queue];
        this.tail = [...group.slice(first), ...this.tail];
        this.busySince ??= Date.now();
        this.schedule(true);
        return;
      }
      this.busySince = undefined;
      this.busyTries = 0;
      this.commitGroup(group, outcomes);
    } catch (error) {
      this.busySince = undefined;
      this.busyTries = 0;
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
    try {
      if (!this.runAll(group, outcomes)) {
        if (this.db.inTransaction) sql.rollback.run();
        outcomes.length = 0;
        // The lock was released by the rollback: take it again, waiting inside SQLite (rare path).
        sql.begin.run();
        this.runEachAlone(group, outcomes);
      }
      this.beforeCommit?.();
      sql.commit.run();
    } catch (error) {
      // SQLite may already have rolled back (disk full, I/O error); only roll back what is still open.
      if (this.db.inTransaction) sql.rollback.run();
      throw error;
    }
  }

  /** BEGIN IMMEDIATE; false when another process holds the write lock (unless `wait`: then SQLite waits). */
  private begin(wait: boolean): boolean {
    const { sql } = this;
    if (wait) {
      sql.begin.run();
      return true;
    }
    // (A busy_timeout pragma acts when it is compiled, so it cannot be a prepared statement run again. exec()
    // compiles and runs it without the statement object and result rows pragma() makes: a few µs less per group.)
    this.db.exec("PRAGMA busy_timeout = 0");
    try {
      sql.begin.run();
      return true;
    } catch (error) {
      if ((error as { code?: unknown }).code === "SQLITE_BUSY") return false;
      throw error;
    } finally {
      this.db.exec(this.restoreBusyTimeout);
    }
  }

  /** The next flush: on the next turn; after a busy lock, on the next turn once, then every millisecond. */
  private schedule(busy: boolean): void {
    if (this.scheduled !== undefined) return;
    if (busy && this.busyTries++ > 0) {
      const timer = setTimeout(() => this.flush(), 1);
      this.scheduled = { cancel: () => clearTimeout(timer) };
      return;
    }
    const immediate = setImmediate(() => this.flush());
    this.scheduled = { cancel: () => clearImmediate(immediate) };
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
