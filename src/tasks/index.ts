/**
 * Durable background tasks: a store (embedded SQLite, or BullMQ on Redis to scale out), the runner that
 * works through it, and the shared types and errors.
 *
 * @example
 * const store = await createTaskStore(config);
 * const runner = new TaskRunner(store, { concurrency: config.tasks.concurrency, leaseMs: config.tasks.leaseMs, execute });
 * runner.start();
 */
import path from "node:path";
import type { ResolvedConfig } from "../config/schema.js";
import type { TaskStore, TaskStoreSettings } from "./types.js";
import type { StoreHealth } from "./store-health.js";
import { WatchedTaskStore } from "./watched-store.js";

export * from "./types.js";
export { IdempotencyMismatchError, InvalidCursorError, TaskConflictError } from "./errors.js";
export { TaskCancelRequest } from "./lease-registry.js";
export { TaskRunner, type TaskRunnerOptions } from "./runner.js";
export { AttemptStopped, backoffDelay, type TaskExecute, type TaskExecuteContext } from "./task-execution.js";
export { fingerprintOf } from "./submit-input.js";
export { StoreHealth, StoreUnavailableError, STORE_LABEL, isStoreFault, type StoreName, type StoreStatus, type StoreHealthListener } from "./store-health.js";
export { WatchedTaskStore } from "./watched-store.js";
export { StoreIdentityError } from "./sqlite-identity.js";

/** The settings `createTaskStore` reads. */
export type TaskStoreConfig = Pick<ResolvedConfig, "root"> & {
  tasks: Pick<ResolvedConfig["tasks"], "database" | "maxLost" | "retentionMs" | "maxRetained" | "idempotencyTtlMs"> & Partial<Pick<ResolvedConfig["tasks"], "interruptedRetentionMs">>;
  redis: Pick<ResolvedConfig["redis"], "prefix"> & { url?: string };
};

/** Options of {@link createTaskStore}. */
export interface CreateTaskStoreOptions {
  /** Redis URL (`--redis` / KAYGRAPH_REDIS_URL); wins over `config.redis.url`. */
  redisUrl?: string;
  /** Fallback polling period for missed notifications (default 1000 ms). */
  pollMs?: number;
  /** Background errors; default a process warning. */
  onError?: (error: unknown) => void;
  /** SQLite: open only an existing file, never create one (a process joining a running service). */
  mustExist?: boolean;
}

/**
 * Opens the task store the settings ask for: BullMQ on Redis when a Redis URL is set, else the SQLite file
 * `tasks.database` (relative to the project root). The backend modules load lazily, so the embedded mode
 * never loads BullMQ.
 *
 * @example
 * const store = await createTaskStore(config, { redisUrl: process.env.KAYGRAPH_REDIS_URL });
 */
export async function createTaskStore(config: TaskStoreConfig, options: CreateTaskStoreOptions = {}): Promise<TaskStore> {
  const { tasks } = config;
  const settings: TaskStoreSettings = {
    maxLost: tasks.maxLost,
    retentionMs: tasks.retentionMs,
    ...(tasks.interruptedRetentionMs !== undefined && { interruptedRetentionMs: tasks.interruptedRetentionMs }),
    maxRetained: tasks.maxRetained,
    idempotencyTtlMs: tasks.idempotencyTtlMs,
    ...(options.pollMs !== undefined && { pollMs: options.pollMs }),
    ...(options.onError !== undefined && { onError: options.onError }),
  };
  const url = options.redisUrl ?? config.redis.url;
  if (url) {
    const { BullmqTaskStore } = await import("./bullmq-store.js");
    return BullmqTaskStore.open({ ...settings, url, prefix: config.redis.prefix });
  }
  const { SqliteTaskStore } = await import("./sqlite-store.js");
  return SqliteTaskStore.open({ ...settings, file: path.resolve(config.root, tasks.database), mustExist: options.mustExist ?? false });
}

/** Options of {@link openWatchedTaskStore}. */
export interface OpenWatchedTaskStoreOptions extends Omit<CreateTaskStoreOptions, "mustExist"> {
  health: StoreHealth;
  /**
   * `"create"`: the service's first open (SQLite creates the file if needed; a failure is a startup error).
   * `"join"`: a process started after that (replacement or later worker, `kaygraph worker` beside a database
   * that exists): never creates the file, and boots without the store when it cannot be opened, retrying
   * every second (a boot failure would end the service under the crash policy).
   */
  mode: "create" | "join";
}

/**
 * {@link createTaskStore} under watch (see {@link WatchedTaskStore}): its health feeds `/ready`, task routes
 * answer 503 `UNAVAILABLE` while it is down, and a SQLite file that was deleted or replaced is never used.
 *
 * @example
 * const store = await openWatchedTaskStore(config, { health, mode: "create" });
 */
export async function openWatchedTaskStore(config: TaskStoreConfig, options: OpenWatchedTaskStoreOptions): Promise<TaskStore> {
  const { health, mode, ...rest } = options;
  const redis = Boolean(options.redisUrl ?? config.redis.url);
  return WatchedTaskStore.open({
    backend: redis ? "redis" : "sqlite",
    open: () => createTaskStore(config, { ...rest, mustExist: mode === "join" }),
    health,
    onOpenFailure: mode === "join" ? "retry" : "fail",
  });
}
