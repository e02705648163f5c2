/**
 * Health of the stores a server depends on (the task store, the rate-limit store): up or down, and why.
 * A store is marked down by a failed probe or by any call that failed because the store did not answer, and up
 * again by the next probe that succeeds. `/ready` reports it; task routes answer 503 `UNAVAILABLE` meanwhile.
 */

/** The stores watched: background tasks, and rate-limit counters. */
export type StoreName = "tasks" | "limits";

/** One store's state as `/ready` shows it. */
export interface StoreStatus {
  status: "up" | "down";
  /** sqlite, redis, cluster. */
  backend: string;
  /** Why it is down (no file paths: it is shown to callers). */
  reason?: string;
  /** Since when it is down (ISO time). */
  since?: string;
}

/** Called on every change of a store's state (log it). */
export type StoreHealthListener = (name: StoreName, now: StoreStatus, detail: unknown) => void;

/** Words for a store in messages. */
export const STORE_LABEL: Readonly<Record<StoreName, string>> = { tasks: "task store", limits: "rate-limit store" };

/**
 * Up/down state per store, with a listener for changes (each change is reported once, not per failed call).
 *
 * @example
 * const health = new StoreHealth((name, s) => log[s.status === "down" ? "error" : "info"]({ store: name }, s.reason ?? "up"));
 * health.register("tasks", "sqlite");
 * health.markDown("tasks", "Redis does not answer");
 * health.snapshot(); // { tasks: { status: "down", backend: "sqlite", reason: "…", since: "…" } }
 */
export class StoreHealth {
  private readonly stores = new Map<StoreName, StoreStatus>();

  constructor(private readonly onChange: StoreHealthListener = () => undefined) {}

  /** Starts watching `name` (up until told otherwise). */
  register(name: StoreName, backend: string): void {
    this.stores.set(name, { status: "up", backend });
  }

  /** Marks `name` down; true if it was up (the listener then heard of it). */
  markDown(name: StoreName, reason: string, detail?: unknown): boolean {
    const store = this.stores.get(name);
    if (store === undefined) return false;
    if (store.status === "down") {
      // A different cause (e.g. a timeout turned into a closed file) is news; the same one is not.
      if (store.reason === reason) return false;
      const next: StoreStatus = { ...store, reason };
      this.stores.set(name, next);
      this.onChange(name, next, detail);
      return false;
    }
    const next: StoreStatus = { status: "down", backend: store.backend, reason, since: new Date().toISOString() };
    this.stores.set(name, next);
    this.onChange(name, next, detail);
    return true;
  }

  /** Marks `name` up; true if it was down. */
  markUp(name: StoreName): boolean {
    const store = this.stores.get(name);
    if (store === undefined || store.status === "up") return false;
    const next: StoreStatus = { status: "up", backend: store.backend };
    this.stores.set(name, next);
    this.onChange(name, next, undefined);
    return true;
  }

  /** True while `name` is watched and down. */
  isDown(name: StoreName): boolean {
    return this.stores.get(name)?.status === "down";
  }

  /** The state of `name`, if watched. */
  status(name: StoreName): StoreStatus | undefined {
    return this.stores.get(name);
  }

  /** Every watched store's state. */
  snapshot(): Partial<Record<StoreName, StoreStatus>> {
    return Object.fromEntries(this.stores);
  }
}

/**
 * A store could not serve a call: it is down (marked by a probe or an earlier failure) or this call failed
 * because it did not answer. The HTTP layer answers 503 `UNAVAILABLE` with `Retry-After`; the message names
 * the store and never a file path.
 *
 * @example
 * throw new StoreUnavailableError("tasks", "redis", "Redis does not answer (command timed out)");
 */
export class StoreUnavailableError extends Error {
  readonly code = "UNAVAILABLE";
  readonly status = 503;
  readonly headers: Readonly<Record<string, string>> = { "Retry-After": "1" };

  constructor(
    readonly store: StoreName,
    readonly backend: string,
    readonly reason: string,
    options: { cause?: unknown } = {},
  ) {
    super(`The ${STORE_LABEL[store]} (${backend}) is unavailable: ${reason}. Retry shortly.`, options);
    this.name = "StoreUnavailableError";
  }
}

/** Redis replies that mean "the server cannot serve now", not "this command is wrong". */
const REDIS_BUSY_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|OOM|BUSY|NOREPLICAS|MISCONF)\b/;
/** ioredis' own failures of the connection. */
const REDIS_CONNECTION = /Command timed out|Connection is closed|Stream isn't writeable|enableOfflineQueue|Reached the max retries per request limit|connect ETIMEDOUT/;
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN"]);

/** SQLite result codes (and their extended forms) that say the database itself cannot serve. */
const SQLITE_STORE_CODES = /^SQLITE_(BUSY|LOCKED|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB|FULL|PROTOCOL)(_|$)/;

/**
 * True when `error` says the store itself failed (did not answer, connection gone, database file unusable),
 * as opposed to a refusal of this one call (a conflict, a bad cursor) or a bug. Such a failure marks the store
 * down until a probe succeeds.
 *
 * @example
 * isStoreFault(new Error("Command timed out")); // true
 * isStoreFault(new TaskConflictError("id", "completed")); // false
 */
export function isStoreFault(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown }).code;
  // better-sqlite3: failures of the database itself (busy, I/O, read-only, unopenable, corrupt, full); a
  // constraint or an SQL error is this call's own failure (a 500), not the store's.
  if (typeof code === "string" && SQLITE_STORE_CODES.test(code)) return true;
  if (error instanceof TypeError && /database connection is not open/.test(error.message)) return true;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  if (error.name === "MaxRetriesPerRequestError") return true;
  if (error.name === "ReplyError") return REDIS_BUSY_REPLY.test(error.message);
  return REDIS_CONNECTION.test(error.message);
}

/**
 * True for a fault that says the store is down, not just busy: a write lock held past the busy timeout
 * (SQLITE_BUSY, SQLITE_LOCKED) fails that call (503) but does not take the store out of service.
 *
 * @example
 * marksStoreDown(Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" })); // false
 */
export function marksStoreDown(error: unknown): boolean {
  if (!isStoreFault(error)) return false;
  const code = (error as { code?: unknown }).code;
  return !(typeof code === "string" && /^SQLITE_(BUSY|LOCKED)/.test(code));
}

/**
 * A short reason for `error` that is safe to show callers (no paths, no hosts): what kind of failure it was.
 *
 * @example
 * publicReason(new Error("Command timed out"), "redis"); // "Redis did not answer in time"
 */
export function publicReason(error: unknown, backend: string): string {
  if (error instanceof StoreUnavailableError) return error.reason;
  const e = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
  const message = typeof e.message === "string" ? e.message : "";
  const code = typeof e.code === "string" ? e.code : undefined;
  if (backend === "redis") {
    if (/(Command|Operation) timed out/.test(message)) return "Redis did not answer in time";
    if (code !== undefined && NETWORK_CODES.has(code)) return `Redis is unreachable (${code})`;
    if (e.name === "ReplyError") return `Redis refused the call (${message.split(" ")[0]})`;
    return "the connection to Redis is down";
  }
  if (code?.startsWith("SQLITE_")) return `the database failed (${code})`;
  if (/database connection is not open/.test(message)) return "the database is closed";
  return code === undefined ? "its last call failed" : `its last call failed (${code})`;
}
