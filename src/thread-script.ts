/**
 * Where a worker thread of kaygraph starts. Built (dist/), that is the compiled module beside its caller. From
 * the TypeScript sources (the unit tests) it is thread-source-entry.mjs, which registers tsx in the thread first
 * (Node 20 does not apply `--import` from a worker thread's execArgv) and then imports the module named by its
 * last argument.
 */
export interface ThreadScript {
  /** The thread's script. */
  url: URL;
  /** Arguments the thread needs appended to its `process.argv` (pass as the Worker's `argv`). */
  argv: string[];
}

/**
 * The script of thread module `name` (no extension), relative to the calling module.
 *
 * @example
 * const { url, argv } = threadScript(import.meta.url, "./sqlite-wal-thread");
 * new Worker(url, { argv, workerData });
 */
export function threadScript(callerUrl: string, name: string): ThreadScript {
  if (!callerUrl.endsWith(".ts")) return { url: new URL(`${name}.js`, callerUrl), argv: [] };
  return { url: new URL("./thread-source-entry.mjs", import.meta.url), argv: [new URL(`${name}.ts`, callerUrl).href] };
}
