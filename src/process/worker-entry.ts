/**
 * Entry of a worker process forked by the {@link Supervisor}. A standby (dev) starts its run threads before
 * anything else — they take longest to warm up — and only then imports the worker itself (worker-main.ts):
 * loading the server's modules takes a while on a busy machine, and the threads warm up meanwhile.
 */
import { prestartRunThreads } from "../runs/threads/prestart.js";
import { WORKER_ENV, type WorkerOptions } from "./messages.js";

const options = JSON.parse(process.env[WORKER_ENV] ?? "{}") as Partial<WorkerOptions>;
if (options.standby && options.threads) prestartRunThreads(options.threads);
await import("./worker-main.js");
