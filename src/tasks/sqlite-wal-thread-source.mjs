// The WAL checkpointer thread's entry when kaygraph runs from its TypeScript sources (the unit tests): Node 20
// does not apply `--import` in a worker thread's execArgv, so the thread registers tsx itself, then loads it.
const { register } = await import("tsx/esm/api");
register();
await import("./sqlite-wal-thread.ts");
