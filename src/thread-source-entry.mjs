// A kaygraph worker thread's entry when kaygraph runs from its TypeScript sources (the unit tests): Node 20 does
// not apply `--import` from a worker thread's execArgv, so the thread registers tsx itself, then imports the
// module named by its last argument (see thread-script.ts).
const { register } = await import("tsx/esm/api");
register();
await import(process.argv[process.argv.length - 1]);
