/**
 * Fetches jobs from BullMQ for claims, in BullMQ's manual mode: a `Worker` without a processor whose
 * `getNextJob(token, { block: true })` waits on BullMQ's marker (BZPOPMIN), so a submit anywhere wakes a
 * waiting claim within milliseconds and delayed (retry) jobs wake it when due. The same Worker runs BullMQ's
 * stalled-job checker: a job whose lock (our lease) was not renewed goes back to wait, and one that stalled
 * more than `maxStalledCount` (= tasks.maxLost) times is failed — which the store records as WORKER_LOST.
 *
 * Aborting a waiting claim closes the Worker (the only way to interrupt BZPOPMIN); the next claim opens a
 * new one. Fetched jobs are therefore bound to the store's Queue as they are built from the fetched fields
 * (no extra read), so finishing them never depends on a Worker's connection.
 */
import { Job, Worker, type JobJsonRaw, type Queue } from "bullmq";
import { Redis } from "ioredis";
import { batchWrites } from "./redis-write-batching.js";

/** What a fetcher needs from its store. */
export interface JobFetcherOptions {
  url: string;
  /** The store's Queue: every fetched job is bound to it. */
  queue: Queue;
  prefix: string;
  queueName: string;
  maxLost: number;
  onError: (error: unknown) => void;
  /** BullMQ failed a job because it stalled too often. */
  onStallLimit: (jobId: string) => void;
}

/**
 * A manual-mode Worker whose fetched jobs belong to the store's Queue: BullMQ builds a fetched job from the
 * fields its fetch script returned (`createJob`); built on the Queue instead of the Worker, the job's later
 * moves (complete, delay, wait, extend lock) go over the Queue's connection and outlive this Worker.
 */
class BoundWorker extends Worker {
  constructor(
    private readonly owner: Queue,
    ...args: ConstructorParameters<typeof Worker>
  ) {
    super(...args);
  }

  protected override createJob(data: JobJsonRaw, jobId: string): Job {
    return Job.fromJSON(this.owner, data, jobId);
  }
}

interface Current {
  worker: Worker;
  connection: Redis;
  leaseMs: number;
  retired?: boolean;
}

/**
 * One waiting fetch at a time, per store.
 *
 * @example
 * const job = await fetcher.next(randomUUID(), 30_000, stopSignal); // locked with that token, or undefined
 */
export class JobFetcher {
  private current: Current | undefined;
  private closed = false;
  private readonly retiring = new Set<Promise<void>>();

  constructor(private readonly options: JobFetcherOptions) {}

  /** The next job, locked with `token` for `leaseMs`; undefined when nothing came or `signal` aborted. */
  async next(token: string, leaseMs: number, signal?: AbortSignal): Promise<Job | undefined> {
    if (this.closed) return undefined;
    const current = this.ensure(leaseMs);
    const onAbort = (): void => this.retire(current);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      return await current.worker.getNextJob(token, { block: true });
    } catch (error) {
      // Closing the worker under a waiting fetch is how an abort (or close) interrupts it; anything else is real.
      if (signal?.aborted || current.retired) return undefined;
      throw error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * The next waiting job, locked with `token`, without blocking (undefined when none is waiting). Call it only
   * between blocking fetches, never beside one: BullMQ keeps one blocking wait per Worker.
   */
  async nextNow(token: string, leaseMs: number): Promise<Job | undefined> {
    if (this.closed) return undefined;
    return this.ensure(leaseMs).worker.getNextJob(token, { block: false });
  }

  /** Closes the worker (and waits for any retiring one). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.current) this.retire(this.current);
    await Promise.all(this.retiring);
  }

  private ensure(leaseMs: number): Current {
    if (this.current?.leaseMs === leaseMs) return this.current;
    if (this.current) this.retire(this.current);
    const { url, queue, prefix, queueName, maxLost, onError, onStallLimit } = this.options;
    // BullMQ requires maxRetriesPerRequest: null on a worker's connection (it blocks).
    // No command timeout either (the blocking fetch must wait); connects are bounded like the store's.
    const connection = new Redis(url, { maxRetriesPerRequest: null, connectTimeout: 2000, retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000) });
    connection.on("error", onError);
    // The batch fetches of a claim (and the stalled checks) in one socket write; BullMQ's blocking fetch runs on
    // its own duplicate of this connection, untouched.
    batchWrites(connection);
    const worker = new BoundWorker(queue, queueName, null, {
      connection,
      prefix,
      autorun: false,
      lockDuration: leaseMs,
      stalledInterval: Math.max(100, Math.round(leaseMs / 2)),
      maxStalledCount: maxLost,
      drainDelay: 5,
    });
    worker.on("error", onError);
    worker.on("failed", (job, error) => {
      if (job?.id && /stalled more than allowable limit/.test(error.message)) onStallLimit(job.id);
    });
    worker.startStalledCheckTimer().catch(onError);
    this.current = { worker, connection, leaseMs };
    return this.current;
  }

  private retire(current: Current): void {
    if (this.current === current) this.current = undefined;
    if (current.retired) return;
    current.retired = true;
    const closing = (async () => {
      await current.worker.close(true);
      await current.connection.quit();
    })()
      .catch(this.options.onError)
      .finally(() => this.retiring.delete(closing));
    this.retiring.add(closing);
  }
}
