import { isMainThread, threadId } from "node:worker_threads";

const on = process.env.KAYGRAPH_RELOAD_TRACE === "1";

/** Profiling aid (KAYGRAPH_RELOAD_TRACE=1): one stderr line per step of a reload, on a clock shared by processes. */
export function traceReload(step: string): void {
  if (!on) return;
  const now = performance.timeOrigin + performance.now();
  process.stderr.write(`kaygraph-trace ${now.toFixed(1)} ${process.pid}${isMainThread ? "" : `/${threadId}`} ${step}\n`);
}
