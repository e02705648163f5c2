import { existsSync } from "node:fs";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import { Errors, KaygraphError } from "../errors.js";
import { createRunService, type RunObserver, type RunService } from "./service.js";
import { ThreadExecutor, threadCount, type ThreadExecutorOptions } from "./threads/thread-executor.js";
import { takePrestarted, type ThreadShape } from "./threads/prestart.js";

export { prestartRunThreads, type ThreadShape } from "./threads/prestart.js";

/** Options of {@link startRunService}. */
export interface StartRunServiceOptions {
  debug?: boolean;
  logger?: Logger;
  observers?: readonly RunObserver[];
  /** Threads to start instead of `threads.count` (the CLI's one-shot run needs one). */
  threadCount?: number;
}

/** The run threads a process of this project starts; undefined when every graph runs inline. */
export function threadShape(config: ResolvedConfig, registry: GraphRegistry): ThreadShape | undefined {
  return threadedFiles(config, registry).length > 0 ? { count: threadCount(config.threads.count), maxHeapMb: config.threads.maxHeapMb } : undefined;
}

/** The graph files that run in threads (graphs built in code, with no file on disk, run inline). */
function threadedFiles(config: ResolvedConfig, registry: GraphRegistry): string[] {
  const threaded = registry.list().filter((graph) => (graph.definition.execution ?? config.execution) === "thread" && existsSync(graph.file));
  return [...new Set(threaded.map((graph) => graph.file))];
}

/**
 * Creates the run service of a process and, when any graph runs in threads (the `execution` setting or a
 * definition's own), starts its pool of run threads and waits until every thread has loaded the graphs:
 * a process reports ready only with warm threads. A thread that cannot load the graphs is a startup error.
 *
 * @example
 * const runs = await startRunService(config, registry, { logger, observers: [meterObserver(metrics)] });
 * // … serve; on shutdown:
 * await runs.close();
 */
export async function startRunService(config: ResolvedConfig, registry: GraphRegistry, options: StartRunServiceOptions = {}): Promise<RunService> {
  const files = threadedFiles(config, registry);
  const settings = threadOptions(config, files, options);
  const reuse = takePrestarted(files.length > 0 ? threadCount(settings.count) : 0, settings.maxHeapMb);
  const threads = files.length > 0 ? new ThreadExecutor(settings, reuse) : undefined;
  try {
    await threads?.start();
  } catch (error) {
    await threads?.close();
    throw new KaygraphError(Errors.GraphLoad, { message: `A run thread could not load the graphs: ${(error as Error).message}`, hint: 'Fix the error above, or set execution: "inline" to run graphs on the main thread.', cause: error });
  }
  return createRunService({ config, registry, debug: options.debug, logger: options.logger, observers: options.observers, threads });
}

/**
 * An in-place reload (`kaygraph dev`): `registry` (loaded under `generation`) served by the same observers and
 * threads as `runs`, once every thread has loaded its graph files too. Undefined when the reload needs a new
 * process instead: the graphs now need run threads and there are none (or the other way round). A thread that
 * cannot load the graphs is the error thrown; `runs` is then unchanged.
 */
export async function reloadRunService(config: ResolvedConfig, runs: RunService, registry: GraphRegistry, generation: number): Promise<RunService | undefined> {
  const files = threadedFiles(config, registry);
  const threads = runs.threads;
  if ((files.length > 0) !== (threads instanceof ThreadExecutor)) return undefined;
  if (threads instanceof ThreadExecutor) {
    try {
      await threads.reload(files, generation);
    } catch (error) {
      throw new KaygraphError(Errors.GraphLoad, { message: `A run thread could not load the graphs: ${(error as Error).message}`, cause: error });
    }
  }
  return runs.withRegistry(registry);
}

function threadOptions(config: ResolvedConfig, files: string[], options: StartRunServiceOptions): ThreadExecutorOptions {
  const { logger } = options;
  return {
    count: options.threadCount ?? config.threads.count,
    maxHeapMb: config.threads.maxHeapMb,
    killGraceMs: config.threads.killGraceMs,
    load: { files, root: config.root },
    onThreadEnd: ({ threadId, end, runs }) => {
      if (logger === undefined || (end.kind === "terminated" && end.job === undefined && runs === 0)) return;
      const why = end.kind === "terminated" ? end.reason : end.message;
      const what = end.kind === "out-of-memory" ? "ran out of memory" : end.kind === "crashed" ? "ended" : "was terminated";
      logger.warn({ thread_id: threadId, runs, reason: why, kind: end.kind }, `run thread ${threadId} ${what} (${why}); ${runs} run(s) on it ended; replaced`);
    },
  };
}
