// The raw BullMQ baseline of bench/tasks.mjs: one process with a BullMQ Worker whose processor does nothing.
//   node bench/servers/bullmq-noop-worker.mjs <redis-url> <queue-name> <prefix> <concurrency>
import { Worker } from "bullmq";
import { Redis } from "ioredis";

const [url, name, prefix, concurrency] = process.argv.slice(2);
const connection = new Redis(url, { maxRetriesPerRequest: null });
const worker = new Worker(name, async (job) => job.data, { connection, prefix, concurrency: Number(concurrency), removeOnComplete: { count: 1_000_000 } });
await worker.waitUntilReady();
process.stdout.write("bullmq worker ready port=0\n");
process.once("SIGTERM", () => void worker.close().then(() => connection.quit()).then(() => process.exit(0)));
