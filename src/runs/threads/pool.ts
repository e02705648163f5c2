/**
 * A small pool of worker threads kept warm: every thread is created at start (and replaced when it ends),
 * work is placed on the ready thread with the fewest jobs, and a thread can be terminated on demand — the
 * jobs it hosted are told why. It knows nothing of graphs: a job is an id, a message handler and an end
 * handler. (Piscina was the alternative; see the notes: runs need a two-step stop — ask, then terminate
 * after a grace — and a stream of events on the thread's own port, which this keeps to one port per thread.)
 */
import { Worker, type ResourceLimits } from "node:worker_threads";
import type { ThreadScript } from "../../thread-script.js";

/** Why a thread ended under its jobs. */
export type ThreadEnd =
  /** The pool terminated it on purpose: `job` is the one it was terminated for (timeout, cancel), if any. */
  | { kind: "terminated"; reason: string; job?: number }
  /** It ran out of heap (`resourceLimits`). */
  | { kind: "out-of-memory"; message: string }
  /** An uncaught error in the thread, or `process.exit()` called there. */
  | { kind: "crashed"; message: string; exitCode: number };

/** A unit of work hosted by a thread. */
export interface PoolJob {
  readonly id: number;
  /** A message the thread sent for this job. */
  onMessage(message: unknown): void;
  /**
   * The job's order could not be sent (structured clone refused it: a DataCloneError); the job was taken off
   * its thread. Orders go out batched at the end of the event loop turn, so this comes after `dispatch`.
   */
  onUnsent(error: unknown): void;
  /**
   * The thread ended while the job was on it. `received` is false when the thread never took the job's
   * order in (it was blocked or busy before): nothing of the job ran, so it may safely go to another thread.
   */
  onThreadEnd(end: ThreadEnd, received: boolean): void;
}

/**
 * What a pool thread gets as `workerData`: the pool's own data, and a shared counter it must increment
 * (Atomics.add) once for every job order it takes in, in order, before running anything of it.
 */
export interface PoolWorkerData<T = unknown> {
  data: T;
  taken: Int32Array;
}

/** A thread ended before it answered a {@link PoolThread.request} (not an answer of the thread's). */
export class ThreadEndedError extends Error {
  override name = "ThreadEndedError";
}

/** A thread busy this long without a word is passed over while another thread is free to take work. */
const STALL_MS = 100;

/**
 * Several messages of one event loop turn, in one: each message to a thread wakes it (an \`eventfd\` write and
 * a context switch on a busy machine), which under load cost more main-thread time per run than anything
 * else on the path. Both sides send this; both unpack it with {@link unbatch}.
 */
export interface PoolBatch {
  type: "pool:batch";
  messages: unknown[];
}

/** The messages in `message`: a {@link PoolBatch}'s, or the message itself. */
export function unbatch<T>(message: T | PoolBatch): T[] {
  return (message as PoolBatch | undefined)?.type === "pool:batch" ? ((message as PoolBatch).messages as T[]) : [message as T];
}

/** Options of a {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /** Number of threads. */
  size: number;
  /** The thread's module (it must post `{ type: "ready" }` once, or `{ type: "load-failed", message }`). */
  script: ThreadScript;
  workerData?: unknown;
  resourceLimits?: ResourceLimits;
  execArgv?: string[];
  /** A thread ended or was replaced (for logs). */
  onThreadEnd?(threadId: number, end: ThreadEnd, jobs: number): void;
}

/** Messages a thread sends: `job` routes it to a job; `ready`/`load-failed`/`control-reply` are the thread's own. */
interface ThreadMessage {
  type: string;
  job?: number;
  message?: string;
  control?: number;
  error?: string;
}

/** One worker thread and the jobs on it. */
export class PoolThread {
  readonly jobs = new Map<number, PoolJob>();
  /** Job orders dispatched, and the sequence number of each job's order. */
  private dispatched = 0;
  private readonly sequence = new Map<number, number>();
  /** When the thread last said something, or last became busy. */
  private heardAt = performance.now();
  readonly ready: Promise<void>;
  readonly threadId: number;
  /** Set once the thread is on its way out (terminated, out of memory, crashed): no new work goes there. */
  ending = false;
  ended = false;
  private end: ThreadEnd | undefined;

  constructor(
    readonly worker: Worker,
    private readonly taken: Int32Array,
    private readonly onEnding: (thread: PoolThread) => void,
    private readonly onEnded: (thread: PoolThread, end: ThreadEnd) => void,
  ) {
    this.threadId = worker.threadId;
    let readyNow!: () => void;
    let failed!: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      readyNow = resolve;
      failed = reject;
    });
    // Nobody may wait on a replacement's readiness: its failure is reported through its end.
    this.ready.catch(() => undefined);
    worker.on("message", (received: ThreadMessage | PoolBatch) => {
      this.heardAt = performance.now();
      for (const message of unbatch(received)) {
        if (message.job !== undefined) this.jobs.get(message.job)?.onMessage(message);
        else if (message.type === "control-reply") this.answered(message.control, message.error);
        else if (message.type === "ready") readyNow();
        else if (message.type === "load-failed") failed(new Error(message.message ?? "the run thread failed to load"));
      }
    });
    worker.on("error", (error: Error & { code?: string }) => {
      this.end ??= error.code === "ERR_WORKER_OUT_OF_MEMORY" ? { kind: "out-of-memory", message: error.message } : { kind: "crashed", message: error.message, exitCode: 1 };
      this.markEnding();
    });
    worker.on("exit", (exitCode) => {
      this.markEnding();
      this.ended = true;
      const end = this.end ?? { kind: "crashed", message: `the thread exited with code ${exitCode} (process.exit() in graph code?)`, exitCode };
      failed(new Error(end.kind === "terminated" ? end.reason : end.message));
      for (const { reject } of this.controls.values()) reject(new ThreadEndedError(`A run thread ended before it answered: ${end.kind === "terminated" ? end.reason : end.message}`));
      this.controls.clear();
      this.onEnded(this, end);
    });
  }

  /**
   * Posts a message to the thread at the end of this event loop turn, after what was posted or dispatched
   * before it (see {@link PoolBatch}). A message structured clone refuses is dropped (a job's order: the job
   * is told, see {@link PoolJob.onUnsent}).
   */
  post(message: unknown): void {
    this.queue(message, undefined);
  }

  private readonly controls = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();
  private nextControl = 0;

  /**
   * Posts an order the thread answers with `{ type: "control-reply", control, error? }` (as {@link post}; the
   * order gets its `control` number): resolves on the answer, rejects with its `error` or if the thread ends.
   */
  request(order: { type: string; [key: string]: unknown }): Promise<void> {
    const control = ++this.nextControl;
    return new Promise<void>((resolve, reject) => {
      this.controls.set(control, { resolve, reject });
      this.post({ ...order, control });
    });
  }

  private answered(control: number | undefined, error: string | undefined): void {
    const waiter = control === undefined ? undefined : this.controls.get(control);
    if (waiter === undefined || control === undefined) return;
    this.controls.delete(control);
    if (error === undefined) waiter.resolve();
    else waiter.reject(new Error(error));
  }

  /** Posts `job`'s order (as {@link post}): the thread counts it when it takes it in (see {@link PoolWorkerData}). */
  dispatch(job: PoolJob, order: unknown): void {
    this.sequence.set(job.id, ++this.dispatched);
    this.queue(order, job);
  }

  private outbox: unknown[] = [];
  /** The job of each order in the outbox, by position (undefined for other messages). */
  private outboxJobs: Array<PoolJob | undefined> = [];

  private queue(message: unknown, job: PoolJob | undefined): void {
    if (this.outbox.length === 0) setImmediate(this.flush);
    this.outbox.push(message);
    this.outboxJobs.push(job);
  }

  private readonly flush = (): void => {
    const messages = this.outbox;
    const jobs = this.outboxJobs;
    this.outbox = [];
    this.outboxJobs = [];
    if (this.ended || messages.length === 0) return;
    try {
      this.worker.postMessage(messages.length === 1 ? messages[0] : ({ type: "pool:batch", messages } satisfies PoolBatch));
      return;
    } catch {
      // One of them cannot be cloned: send them one by one, and tell the job whose order could not go.
    }
    messages.forEach((message, i) => {
      try {
        this.worker.postMessage(message);
      } catch (error) {
        const job = jobs[i];
        if (job === undefined) return;
        // The thread never counts this order: the orders after it are counted one lower.
        const unsent = this.sequence.get(job.id) ?? Infinity;
        for (const [id, sequence] of this.sequence) if (sequence > unsent) this.sequence.set(id, sequence - 1);
        if (unsent !== Infinity) this.dispatched--;
        this.remove(job);
        job.onUnsent(error);
      }
    });
  };

  /** True once the thread took `job`'s order in (so something of it may have run). */
  received(job: PoolJob): boolean {
    const sequence = this.sequence.get(job.id);
    return sequence !== undefined && Atomics.load(this.taken, 0) >= sequence;
  }

  /** Adds a job (placement). */
  add(job: PoolJob): void {
    if (this.jobs.size === 0) this.heardAt = performance.now();
    this.jobs.set(job.id, job);
  }

  /** Removes a job (it ended, or moved). */
  remove(job: PoolJob): void {
    if (this.jobs.get(job.id) !== job) return;
    this.jobs.delete(job.id);
    this.sequence.delete(job.id);
  }

  /** Busy and silent for a while: probably blocked by a graph that does not yield. */
  stalled(now: number): boolean {
    return this.jobs.size > 0 && now - this.heardAt > STALL_MS;
  }

  /** Terminates the thread (its replacement starts at once); its jobs get a `terminated` end naming `reason`. */
  terminate(reason: string, job?: number): void {
    if (this.ended) return;
    this.end ??= { kind: "terminated", reason, ...(job !== undefined && { job }) };
    this.markEnding();
    void this.worker.terminate();
  }

  private markEnding(): void {
    if (this.ending) return;
    this.ending = true;
    this.onEnding(this);
  }
}

/**
 * Worker threads kept warm, with least-load placement and replacement.
 *
 * @example
 * const pool = new ThreadPool({ size: 2, script: threadScript(import.meta.url, "./thread-entry") });
 * await pool.start();
 * const thread = pool.place(job); thread.post({ type: "run", job: job.id, … });
 */
export class ThreadPool {
  private readonly threads: PoolThread[] = [];
  /** Threads replaced but not exited yet (close waits for them too). */
  private readonly leaving = new Set<PoolThread>();
  private isClosed = false;
  private next = 0;
  private workerData: unknown;

  constructor(private readonly options: ThreadPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`size must be a positive integer, got ${options.size}`);
    this.workerData = options.workerData;
  }

  /** Creates every thread; resolves once all are ready, rejects if one fails to load. */
  async start(): Promise<void> {
    this.prestart();
    await Promise.all(this.threads.map((t) => t.ready));
  }

  /** Creates every thread without waiting for them (see {@link provide}). */
  prestart(): void {
    while (this.threads.length < this.options.size) this.threads.push(this.spawn());
  }

  /**
   * For threads started before their data was known (their script waits for it): posts
   * `{ type: "pool:data", data }` to every thread, makes `data` the `workerData` of every later one
   * (replacements), and resolves once all are ready.
   */
  async provide(data: unknown): Promise<void> {
    this.workerData = data;
    for (const thread of this.threads) thread.post({ type: "pool:data", data });
    await Promise.all(this.threads.map((t) => t.ready));
  }

  /** What threads started from now on get (replacements included). */
  get data(): unknown {
    return this.workerData;
  }

  /**
   * Sends every live thread an order it answers (see {@link PoolThread.request}), with `data` as what threads
   * started from now on get; resolves once all answered, rejects with the first thread's error. A thread that
   * ends meanwhile counts as done: its replacement starts with `data`. On an error `data` is taken back, and
   * threads started with it meanwhile are replaced again.
   */
  async broadcast(order: { type: string; [key: string]: unknown }, data: unknown): Promise<void> {
    const before = this.workerData;
    const earlier = new Set(this.threads);
    this.workerData = data;
    try {
      await Promise.all(this.threads.filter((t) => !t.ending).map((t) => t.request(order).catch((error: unknown) => {
        if (!(error instanceof ThreadEndedError)) throw error;
      })));
    } catch (error) {
      this.workerData = before;
      for (const thread of this.threads) if (!earlier.has(thread)) thread.terminate("a reload was undone");
      throw error;
    }
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Threads alive now (replacements included). */
  get size(): number {
    return this.threads.length;
  }

  /** Jobs per thread, for tests and logs. */
  loads(): number[] {
    return this.threads.map((t) => t.jobs.size);
  }

  /**
   * Puts `job` on the thread with the fewest jobs, passing over threads that look blocked (busy and silent
   * for a while) when another can take it; ties rotate. Returns that thread. Orders posted before a fresh
   * thread is ready wait in its port.
   */
  place(job: PoolJob): PoolThread {
    if (this.isClosed) throw new Error("The run thread pool is closed.");
    const now = performance.now();
    let best: PoolThread | undefined;
    let bestStalled = true;
    const count = this.threads.length;
    for (let i = 0; i < count; i++) {
      const thread = this.threads[(this.next + i) % count] as PoolThread;
      if (thread.ending) continue;
      const stalled = thread.stalled(now);
      if (best === undefined || (bestStalled && !stalled) || (bestStalled === stalled && thread.jobs.size < best.jobs.size)) {
        best = thread;
        bestStalled = stalled;
      }
      if (thread.jobs.size === 0) break;
    }
    this.next = (this.next + 1) % Math.max(1, count);
    if (best === undefined) throw new Error("No run thread is alive.");
    best.add(job);
    return best;
  }

  /** The job left its thread (it ended). */
  release(thread: PoolThread, job: PoolJob): void {
    thread.remove(job);
  }

  /** Terminates every thread; jobs still on them end `terminated`. */
  async close(reason = "The server is shutting down."): Promise<void> {
    this.isClosed = true;
    const threads = [...this.threads, ...this.leaving];
    const exits = threads.map((t) => (t.ended ? Promise.resolve() : new Promise<void>((resolve) => t.worker.once("exit", () => resolve()))));
    for (const thread of threads) thread.terminate(reason);
    await Promise.all(exits);
  }

  private spawn(): PoolThread {
    const { script, resourceLimits, execArgv } = this.options;
    const taken = new Int32Array(new SharedArrayBuffer(4));
    const data: PoolWorkerData = { data: this.workerData, taken };
    const worker = new Worker(script.url, { argv: script.argv, workerData: data, resourceLimits, ...(execArgv && { execArgv }), stdout: false, stderr: false });
    return new PoolThread(
      worker,
      taken,
      (thread) => this.replace(thread),
      (thread, end) => this.ended(thread, end),
    );
  }

  /** A thread is on its way out: its replacement starts now, not once it has exited. */
  private replace(thread: PoolThread): void {
    const index = this.threads.indexOf(thread);
    if (index < 0 || this.isClosed) return;
    this.leaving.add(thread);
    this.threads[index] = this.spawn();
  }

  private ended(thread: PoolThread, end: ThreadEnd): void {
    this.leaving.delete(thread);
    const jobs = [...thread.jobs.values()].map((job) => ({ job, received: thread.received(job) }));
    for (const { job } of jobs) thread.remove(job);
    this.options.onThreadEnd?.(thread.threadId, end, jobs.filter((j) => j.received).length);
    for (const { job, received } of jobs) job.onThreadEnd(end, received);
  }
}
