/**
 * The embedded counter store: one SQLite file (WAL) shared by every worker process of one `serve`.
 *
 * Exactness across processes: rate-limiter-flexible's RateLimiterSQLite (better-sqlite3) counts with ONE
 * statement, `INSERT … ON CONFLICT(key) DO UPDATE SET points = CASE … END … RETURNING points, expire`, inside a
 * deferred transaction whose first statement is that write. SQLite takes the database write lock when a write
 * statement starts (before it reads the row), so the read-modify-write is serialised across connections and
 * processes, and a connection that finds the lock taken waits in the busy handler (better-sqlite3's `timeout`)
 * instead of failing. No read precedes the write in the transaction, so there is no old snapshot to upgrade:
 * the WAL "stale snapshot" failure that makes BEGIN IMMEDIATE necessary for read-then-write transactions is
 * retried by SQLite itself here (the transaction holds nothing yet). The transaction is therefore as good as
 * BEGIN IMMEDIATE. test/unit/security/rate-limit-sqlite-processes.test.ts checks it: 3 processes, every
 * `remaining` value handed out exactly once.
 * Durability: each consume is a committed transaction; with synchronous=NORMAL in WAL mode a process crash
 * (kill -9) never loses a commit (only a power loss can drop the last ones).
 */
import { mkdirSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { RateLimiterSQLite } from "rate-limiter-flexible";
import { Errors, KaygraphError } from "../../errors.js";
import type { LimiterStore } from "./store.js";

/** Options of the SQLite store. */
export interface SqliteStoreOptions {
  kind: "sqlite";
  /** The database file (its directory is created). A file of its own avoids waiting behind task-store writes. */
  file: string;
  /** Longest wait for the write lock held by another process before a consume fails. Default 2000 ms. */
  busyTimeoutMs?: number;
  /** How often expired counters are deleted. Default 5 minutes. */
  pruneIntervalMs?: number;
}

/** Table holding the counters. */
export const RATE_LIMIT_TABLE = "kaygraph_rate_limits";

/**
 * Opens (creating if needed) the counter table in `file`. Throws `KG_STORE_UNAVAILABLE` when the file cannot
 * be opened. Pruning errors go to `onError` (the store keeps working without pruning).
 *
 * @example
 * const store = openSqliteStore({ kind: "sqlite", file: ".kaygraph/ratelimit.db" }, (e) => log.warn(e));
 */
export function openSqliteStore(options: SqliteStoreOptions, onError: (error: unknown) => void): LimiterStore {
  const db = openDatabase(options);
  const opened = statSync(options.file, { throwIfNoEntry: false });
  const prune = db.prepare(`DELETE FROM ${RATE_LIMIT_TABLE} WHERE expire IS NOT NULL AND expire < ?`);
  const pruneNow = () => {
    try {
      prune.run(Date.now());
    } catch (error) {
      onError(error);
    }
  };
  pruneNow();
  const timer = setInterval(pruneNow, options.pruneIntervalMs ?? 5 * 60_000);
  timer.unref();

  return {
    kind: "sqlite",
    create: (spec, keyPrefix) =>
      new RateLimiterSQLite({
        storeClient: withStatementCache(db),
        storeType: "better-sqlite3",
        tableName: RATE_LIMIT_TABLE,
        // The table exists already: the library's async creation would race the first consume.
        tableCreated: true,
        clearExpiredByTimeout: false,
        points: spec.points,
        duration: spec.durationSec,
        keyPrefix,
      }),
    probe: async () => {
      db.prepare("SELECT 1").get();
      // A file deleted or replaced under this process: counting on would split the counts from other processes.
      const now = statSync(options.file, { throwIfNoEntry: false });
      if (opened !== undefined && (now === undefined || now.dev !== opened.dev || now.ino !== opened.ino)) {
        throw new Error(`the rate-limit database file was ${now === undefined ? "deleted or moved" : "replaced"} while in use`);
      }
    },
    close: async () => {
      clearInterval(timer);
      db.close();
    },
  };
}

function openDatabase(options: SqliteStoreOptions): Database.Database {
  try {
    mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    const db = new Database(options.file, { timeout: options.busyTimeoutMs ?? 2000 });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(`CREATE TABLE IF NOT EXISTS ${RATE_LIMIT_TABLE} (key TEXT PRIMARY KEY, points INTEGER NOT NULL DEFAULT 0, expire INTEGER)`);
    return db;
  } catch (cause) {
    throw new KaygraphError(Errors.StoreUnavailable, {
      message: `Could not open the rate-limit database ${options.file}: ${(cause as Error).message}`,
      cause,
    });
  }
}

/**
 * The database as RateLimiterSQLite sees it, minus per-call overhead: the library calls `prepare(sql)` on
 * every consume (better-sqlite3 compiles the SQL again each time) and wraps its one upsert statement in a new
 * `transaction()` each time. Statements are reused (one per SQL text; the texts are the library's own few),
 * and the wrapper runs the function as it is: the library's upsert is a single INSERT … ON CONFLICT …
 * RETURNING statement, which SQLite already runs atomically in its own transaction (taking the write lock
 * before it reads the row), so counts stay exact across processes.
 */
function withStatementCache(db: Database.Database): Database.Database {
  const statements = new Map<string, Database.Statement>();
  return new Proxy(db, {
    get(target, property, receiver) {
      if (property === "transaction") return <F extends (...args: never[]) => unknown>(fn: F): F => fn;
      if (property === "prepare") {
        return (sql: string) => {
          let statement = statements.get(sql);
          if (!statement) statements.set(sql, (statement = target.prepare(sql)));
          return statement;
        };
      }
      const value = Reflect.get(target, property, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
