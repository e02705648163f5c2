/**
 * Run threads started before their project is known (a `kaygraph dev` standby waiting for its reload). Kept
 * apart from the run service so that a standby's entry can start them before it imports the server's
 * modules: the threads are the slowest part of a standby to warm up.
 */
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

/** The prestarted threads if they fit these settings (once); any that do not are closed. */
export function takePrestarted(count: number, maxHeapMb: number): PrestartedThreads | undefined {
  const taken = prestarted;
  prestarted = undefined;
  if (taken === undefined || (taken.count === count && taken.maxHeapMb === maxHeapMb)) return taken;
  void taken.pool.close("Prestarted run threads did not fit the project's threads settings.");
  return undefined;
}
