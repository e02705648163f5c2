/**
 * Store health (issue 15): the up/down state and its change reports, what counts as a store fault, the file
 * identity check, the `/ready` decision, and the watched store (fail fast while down, never touch a detached
 * SQLite file, boot without the store and open it once it is there).
 */
import { mkdtemp, rename, rm } from "node:fs/promises";
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { readiness } from "../../../src/server/readiness.js";
import { identityChange, StoreIdentityError } from "../../../src/tasks/sqlite-identity.js";
import { SqliteTaskStore } from "../../../src/tasks/sqlite-store.js";
import { isStoreFault, marksStoreDown, publicReason, StoreHealth, StoreUnavailableError, type StoreName, type StoreStatus } from "../../../src/tasks/store-health.js";
import { WatchedTaskStore, type ProbedTaskStore } from "../../../src/tasks/watched-store.js";
import { IdempotencyMismatchError, InvalidCursorError, TaskConflictError } from "../../../src/tasks/index.js";
import { TEST_SETTINGS } from "./helpers.js";

async function tmpDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-health-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe("StoreHealth", () => {
  it("reports each change once: down (with reason and since), a new reason, up", () => {
    const changes: Array<[StoreName, StoreStatus]> = [];
    const health = new StoreHealth((name, status) => changes.push([name, status]));
    health.register("tasks", "redis");
    expect(health.snapshot()).toEqual({ tasks: { status: "up", backend: "redis" } });
    expect(health.markDown("tasks", "Redis did not answer in time")).toBe(true);
    expect(health.markDown("tasks", "Redis did not answer in time")).toBe(false);
    expect(health.isDown("tasks")).toBe(true);
    expect(health.status("tasks")).toMatchObject({ status: "down", backend: "redis", reason: "Redis did not answer in time", since: expect.any(String) });
    health.markDown("tasks", "the connection to Redis is down");
    expect(health.markUp("tasks")).toBe(true);
    expect(health.markUp("tasks")).toBe(false);
    expect(changes.map(([, s]) => s.status)).toEqual(["down", "down", "up"]);
    // Stores nobody registered are not watched.
    expect(health.markDown("limits", "x")).toBe(false);
    expect(health.isDown("limits")).toBe(false);
  });
});

describe("isStoreFault and publicReason", () => {
  const sqlite = (code: string) => Object.assign(new Error("disk I/O error"), { name: "SqliteError", code });
  const reply = (message: string) => Object.assign(new Error(message), { name: "ReplyError" });

  it("counts engine and connection failures, not refusals of one call", () => {
    for (const fault of [
      new Error("Command timed out"),
      new Error("Connection is closed."),
      new Error("Stream isn't writeable and enableOfflineQueue options is false"),
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      reply("LOADING Redis is loading the dataset in memory"),
      sqlite("SQLITE_IOERR_WRITE"),
      sqlite("SQLITE_READONLY"),
      new TypeError("The database connection is not open"),
      new StoreUnavailableError("tasks", "sqlite", "down"),
    ]) {
      expect(isStoreFault(fault), fault.message).toBe(true);
    }
    // A constraint, an SQL error or a value too big is that call's failure: the database itself still serves.
    for (const refusal of [new TaskConflictError("t", "completed"), new IdempotencyMismatchError("t"), new InvalidCursorError(), reply("ERR Error running script"), new RangeError("bug"), "text", sqlite("SQLITE_CONSTRAINT_UNIQUE"), sqlite("SQLITE_ERROR"), sqlite("SQLITE_TOOBIG")]) {
      expect(isStoreFault(refusal), String(refusal)).toBe(false);
    }
  });

  it("a busy database fails the call but does not take the store out of service", () => {
    expect(isStoreFault(sqlite("SQLITE_BUSY"))).toBe(true);
    expect(marksStoreDown(sqlite("SQLITE_BUSY"))).toBe(false);
    expect(marksStoreDown(sqlite("SQLITE_IOERR"))).toBe(true);
    expect(marksStoreDown(new TaskConflictError("t", "failed"))).toBe(false);
  });

  it("says what failed without paths or hosts", () => {
    expect(publicReason(new Error("Command timed out"), "redis")).toBe("Redis did not answer in time");
    expect(publicReason(Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:6379"), { code: "ECONNREFUSED" }), "redis")).toBe("Redis is unreachable (ECONNREFUSED)");
    expect(publicReason(sqlite("SQLITE_FULL"), "sqlite")).toBe("the database failed (SQLITE_FULL)");
    expect(publicReason(new Error("EACCES: permission denied, open '/srv/app/.kaygraph/kaygraph.db'"), "sqlite")).not.toContain("/srv");
  });
});

describe("file identity", () => {
  it("tells deleted and replaced from the same file", () => {
    expect(identityChange({ dev: 1, ino: 7 }, { dev: 1, ino: 7 })).toBeUndefined();
    expect(identityChange({ dev: 1, ino: 7 }, undefined)).toBe("deleted");
    expect(identityChange({ dev: 1, ino: 7 }, { dev: 1, ino: 8 })).toBe("replaced");
    expect(identityChange({ dev: 1, ino: 7 }, { dev: 2, ino: 7 })).toBe("replaced");
  });

  it("SqliteTaskStore.probe fails once the file is moved away or replaced, passes again once it is back; mustExist never creates", async () => {
    const dir = await tmpDir();
    const file = path.join(dir, "kg.db");
    const store = SqliteTaskStore.open({ ...TEST_SETTINGS, file });
    onTestFinished(() => store.close());
    await store.probe();
    await rename(file, `${file}.moved`);
    await expect(store.probe()).rejects.toMatchObject({ name: "StoreIdentityError", change: "deleted" });
    writeFileSync(file, "");
    await expect(store.probe()).rejects.toMatchObject({ change: "replaced" });
    await rename(`${file}.moved`, file);
    await store.probe();

    const missing = path.join(dir, "nested", "missing.db");
    expect(() => SqliteTaskStore.open({ ...TEST_SETTINGS, file: missing, mustExist: true })).toThrow(/does not exist/);
    expect(existsSync(missing)).toBe(false);
    expect(existsSync(path.dirname(missing))).toBe(false);
  });
});

describe("readiness", () => {
  it("is ready only in the ready phase with every store up, and names the down store", () => {
    expect(readiness("ready", { tasks: { status: "up", backend: "sqlite" } })).toEqual({ ready: true, body: { status: "ready", stores: { tasks: { status: "up", backend: "sqlite" } } } });
    expect(readiness("draining", {})).toMatchObject({ ready: false, message: "The server is draining." });
    const down = readiness("ready", { tasks: { status: "up", backend: "redis" }, limits: { status: "down", backend: "redis", reason: "Redis did not answer in time" } });
    expect(down).toMatchObject({ ready: false, message: "The rate-limit store (redis) is unavailable: Redis did not answer in time.", details: { phase: "ready" } });
    // failOpen: requests pass while the counter store is down, so it is reported but the server stays ready.
    expect(readiness("ready", { limits: { status: "down", backend: "redis", reason: "x" } }, ["limits"])).toMatchObject({ ready: true, body: { stores: { limits: { status: "down" } } } });
  });
});

/** A store whose every method answers `ok` unless told to fail; records what was called. */
function fakeStore(state: { fail?: Error; probe?: Error; calls: string[] }): ProbedTaskStore {
  const answer = (name: string, value: unknown) => async () => {
    state.calls.push(name);
    if (state.fail) throw state.fail;
    return value;
  };
  return {
    backend: "redis",
    submit: answer("submit", { task: { id: "t1" }, replayed: false }),
    get: answer("get", undefined),
    list: answer("list", { tasks: [], next_cursor: null }),
    cancel: answer("cancel", undefined),
    events: answer("events", []),
    subscribe: () => () => undefined,
    resume: answer("resume", undefined),
    state: answer("state", undefined),
    claim: answer("claim", undefined),
    claimBatch: async (options) => {
      state.calls.push("claimBatch");
      await new Promise<void>((resolve) => options.signal?.addEventListener("abort", () => resolve(), { once: true }));
      return [];
    },
    renew: answer("renew", { ok: true, cancelRequested: false }),
    appendEvents: answer("appendEvents", true),
    checkpoint: answer("checkpoint", true),
    interrupt: answer("interrupt", "ok"),
    complete: answer("complete", "ok"),
    fail: answer("fail", "ok"),
    retry: answer("retry", "ok"),
    release: answer("release", "ok"),
    sweep: answer("sweep", { requeued: 0, ended: 0 }),
    prune: answer("prune", 0),
    claimWebhooks: answer("claimWebhooks", { deliveries: [], nextDueIn: null }),
    settleWebhook: answer("settleWebhook", true),
    onWebhooks: () => () => undefined,
    webhookMessages: answer("webhookMessages", []),
    close: async () => undefined,
    probe: async () => {
      if (state.probe) throw state.probe;
    },
  } as ProbedTaskStore;
}

describe("WatchedTaskStore", () => {
  const watch = async (state: Parameters<typeof fakeStore>[0], health = new StoreHealth()) => {
    const store = await WatchedTaskStore.open({ backend: "redis", open: async () => fakeStore(state), health, onOpenFailure: "fail", probeEveryMs: 60_000 });
    onTestFinished(() => store.close());
    return { store, health };
  };

  it("a failed call marks the store down: API calls then fail at once (503) until a probe succeeds", async () => {
    const state = { calls: [] as string[], fail: new Error("Command timed out") as Error | undefined };
    const { store, health } = await watch(state);
    await expect(store.submit({ graph: "g", version: 1, input: 1 })).rejects.toMatchObject({ name: "StoreUnavailableError", status: 503, store: "tasks", reason: "Redis did not answer in time" });
    expect(health.isDown("tasks")).toBe(true);
    state.fail = undefined;
    state.calls.length = 0;
    await expect(store.list()).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(state.calls).toEqual([]);
    // Housekeeping waits; the worker side still passes through (its own calls fail on their own).
    expect(await store.sweep()).toEqual({ requeued: 0, ended: 0 });
    expect(await store.complete({} as never, 1)).toBe("ok");
    await store.check();
    expect(health.isDown("tasks")).toBe(false);
    await expect(store.list()).resolves.toEqual({ tasks: [], next_cursor: null });
  });

  it("refusals of one call pass unchanged and leave the store up", async () => {
    const state = { calls: [] as string[], fail: new TaskConflictError("t1", "completed") as Error };
    const { store, health } = await watch(state);
    await expect(store.cancel("t1")).rejects.toBeInstanceOf(TaskConflictError);
    expect(health.isDown("tasks")).toBe(false);
  });

  it("a file identity change detaches the store: no call reaches it, waiting claims return, and it is used again once the file is back", async () => {
    const state = { calls: [] as string[], probe: new StoreIdentityError("deleted", "/x/kg.db") as Error | undefined };
    const { store, health } = await watch(state);
    const waiting = store.claimBatch({ leaseMs: 1000 }, 1);
    await new Promise((resolve) => setImmediate(resolve));
    await store.check();
    expect(await waiting).toEqual([]);
    expect(health.status("tasks")).toMatchObject({ status: "down", reason: "the database file was deleted or moved while in use" });
    state.calls.length = 0;
    await expect(store.renew({} as never, 1000)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.get("t1")).rejects.toBeInstanceOf(StoreUnavailableError);
    const stop = new AbortController();
    const claim = store.claimBatch({ leaseMs: 1000, signal: stop.signal }, 1);
    stop.abort();
    expect(await claim).toEqual([]);
    expect(state.calls).toEqual([]);
    state.probe = undefined;
    await store.check();
    expect(health.isDown("tasks")).toBe(false);
    await expect(store.get("t1")).resolves.toBeUndefined();
  });

  it("onOpenFailure retry: starts down without the store, opens it on a later probe", async () => {
    const health = new StoreHealth();
    let attempts = 0;
    const state = { calls: [] as string[] };
    const store = await WatchedTaskStore.open({
      backend: "sqlite",
      open: async () => {
        attempts++;
        if (attempts === 1) throw Object.assign(new Error("unable to open database file"), { name: "SqliteError", code: "SQLITE_CANTOPEN" });
        return fakeStore(state);
      },
      health,
      onOpenFailure: "retry",
      probeEveryMs: 60_000,
    });
    onTestFinished(() => store.close());
    expect(health.status("tasks")).toMatchObject({ status: "down", reason: expect.stringMatching(/does not exist or cannot be opened.*trying again every second/) });
    await expect(store.submit({ graph: "g", version: 1, input: 1 })).rejects.toBeInstanceOf(StoreUnavailableError);
    await store.check();
    expect(attempts).toBe(2);
    expect(health.isDown("tasks")).toBe(false);
    await expect(store.submit({ graph: "g", version: 1, input: 1 })).resolves.toMatchObject({ task: { id: "t1" } });
  });

  it("onOpenFailure fail: the first open's error is the caller's", async () => {
    await expect(WatchedTaskStore.open({ backend: "sqlite", open: () => Promise.reject(new Error("boom")), health: new StoreHealth(), onOpenFailure: "fail" })).rejects.toThrow("boom");
  });
});
