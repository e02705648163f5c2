import { existsSync } from "node:fs";
import path from "node:path";
import type { ResolvedConfig } from "../config/schema.js";
import { loadGraphs } from "../definition/load.js";
import { createLogger } from "../server/logger.js";
import { createMetrics } from "../server/metrics.js";
import { createTaskExecutor } from "../server/task-executor.js";
import { meterObserver } from "../server/run-metering.js";
import { traceObserver } from "../tracing/observer.js";
import { startTracing, stopTracing } from "../tracing/sdk.js";
import { startRunService } from "../runs/start.js";
import { StoreHealth, TaskRunner, openWatchedTaskStore } from "../tasks/index.js";
import { logStoreHealth } from "../server/store-watch.js";
import { Errors, KaygraphError } from "../errors.js";

/** A running task worker: see {@link startTaskWorker}. */
export interface TaskWorkerHandle {
  /** Stop claiming, let running tasks finish until the shutdown deadline, hand the rest back, close the store. */
  close(): Promise<void>;
}

/**
 * `kaygraph worker`: runs background tasks from the store (SQLite on this machine, or Redis anywhere) with no
 * HTTP server, until {@link TaskWorkerHandle.close}. Installs no signal handlers: the command does.
 */
export async function startTaskWorker(config: ResolvedConfig): Promise<TaskWorkerHandle> {
  const logger = createLogger(config.log);
  await startTracing(process.env, logger);
  const registry = await loadGraphs(config);
  // Beside a database that exists (a service runs on it), never create one: if it vanishes, this worker waits
  // for it (retrying every second) instead of starting a second, empty store.
  const joins = !config.redis.url && existsSync(path.resolve(config.root, config.tasks.database));
  const health = new StoreHealth(logStoreHealth(logger));
  const store = await openWatchedTaskStore(config, { onError: (error) => logger.warn({ err: error }, "task store"), health, mode: joins ? "join" : "create" }).catch((error: unknown) => {
    throw new KaygraphError(Errors.StoreUnavailable, { message: `Cannot open the task store: ${(error as Error).message}`, cause: error });
  });
  const runs = await startRunService(config, registry, { logger, observers: [meterObserver(createMetrics()), traceObserver] });
  const runner = new TaskRunner(store, {
    concurrency: config.tasks.concurrency,
    leaseMs: config.tasks.leaseMs,
    pruneEveryMs: config.tasks.pruneIntervalMs,
    execute: createTaskExecutor(runs),
    onError: (error) => logger.warn({ err: error }, "task runner"),
  });
  runner.start();
  const where = config.redis.url ? "Redis" : config.tasks.database;
  logger.info({ concurrency: config.tasks.concurrency, store: store.backend, graphs: registry.size }, "task worker started");
  process.stderr.write(`kaygraph worker: running up to ${config.tasks.concurrency} task(s) at once from ${where}\n`);
  if (process.env.KAYGRAPH_TEST === "1") process.stderr.write("kaygraph: worker ready\n");
  return {
    close: async () => {
      await runner.stop({ deadlineMs: config.server.shutdownTimeout * 1000 });
      await runs.close();
      await store.close();
      await stopTracing();
      logger.info("task worker stopped");
      logger.flush();
    },
  };
}
