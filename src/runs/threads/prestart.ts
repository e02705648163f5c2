/**
 * Run threads started before their project is known (a `kaygraph dev` standby waiting for its reload). Kept
 * apart from the run service so that a standby's entry can start them before it imports the server's
 * modules: the threads are the slowest part of a standby to warm up.
 */
import type { ThreadData } from "./protocol.js";
import { PrestartedThreads } from "./thread-executor.js";

/** How many run threads a process starts, and their heap limit (what a prestarted pool must match). */
export interface ThreadShape {
  count: number;
  maxHeapMb: number;
}

let prestarted: PrestartedThreads | undefined;

/**
 * Starts run threads shaped as the last loaded project's were: the next run service of this process takes
 * them over when its project still asks for that shape, and closes them otherwise.
 *
 * @example
 * if (options.threads) prestartRunThreads(options.threads); // first thing in a standby worker
 */
export function prestartRunThreads(shape: ThreadShape): void {
  prestarted ??= new PrestartedThreads(shape.count, shape.maxHeapMb);
}

/**
 * A standby that knows its project's settings gives the prestarted threads the graph files now (when graphs
 * run in threads by default), so they load them while the process imports them itself. Should the
 * definitions then say otherwise (a graph that runs inline), {@link takePrestarted} closes these threads and
 * the run service starts fresh ones: correct, only slower.
 *
 * @example
 * if (config.execution === "thread") loadPrestartedEarly(await discoverGraphFiles(config.graphs, config.root), config.root);
 */
export function loadPrestartedEarly(files: readonly string[], root: string): void {
  if (files.length > 0) prestarted?.loadEarly(files, root);
}

/**
 * The prestarted threads if they fit these settings and the files the run service gives its threads
 * (once); any that do not are closed.
 */
export function takePrestarted(count: number, maxHeapMb: number, load: ThreadData): PrestartedThreads | undefined {
  const taken = prestarted;
  prestarted = undefined;
  if (taken === undefined || (taken.count === count && taken.maxHeapMb === maxHeapMb && taken.fits(load))) return taken;
  void taken.pool.close("Prestarted run threads did not fit the project's threads settings.");
  return undefined;
}
