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

export * from "./types.js";
export { IdempotencyMismatchError, InvalidCursorError, TaskConflictError } from "./errors.js";
export { TaskCancelRequest } from "./lease-registry.js";
export { TaskRunner, type TaskRunnerOptions } from "./runner.js";
export { AttemptStopped, backoffDelay, type TaskExecute, type TaskExecuteContext } from "./task-execution.js";
export { fingerprintOf } from "./submit-input.js";

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
  return SqliteTaskStore.open({ ...settings, file: path.resolve(config.root, tasks.database) });
}
