/**
 * Moves SQLite's WAL checkpoints out of the commits of a busy store. Under WAL with `synchronous = NORMAL` a
 * commit only appends to the WAL file (no fsync); every ~1000 pages the committing connection then copies the
 * WAL back into the database file and fsyncs both, inside that commit: a stall of 10–50 ms on the event loop
 * that every queued write waits for. Once a store has committed a few hundred times, a worker thread with its
 * own connection ({@link ./sqlite-wal-thread.ts}) takes over those checkpoints and the store's own connection
 * keeps automatic checkpoints only as a far backstop. Durability is unchanged: the same checkpoints with the same
 * fsyncs run, on another thread. If the thread fails, automatic checkpoints return to SQLite's default.
 */
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { threadScript } from "../thread-script.js";

/** What the thread is started with. */
export interface WalThreadData {
  file: string;
  intervalMs: number;
}

/** What the thread tells the store. */
export type WalThreadMessage = { type: "ready" } | { type: "error"; message: string };

/** SQLite's default automatic checkpoint, in pages. */
const DEFAULT_AUTOCHECKPOINT = 1000;
/** The store's own automatic checkpoint while the thread runs (64 MB of 4 KB pages): reached only if it stalls. */
const BACKSTOP_AUTOCHECKPOINT = 16_000;
const ENTRY = threadScript(import.meta.url, "./sqlite-wal-thread");

/** Options of {@link WalCheckpointer}. */
export interface WalCheckpointerOptions {
  /** Commits before the thread starts: an idle store (a dev server, a CLI run) never starts one. Default 256. */
  startAfterCommits?: number;
  /** Time between two checkpoints of the thread. Default 100 ms. */
  intervalMs?: number;
  onError: (error: unknown) => void;
}

/**
 * The checkpointer of one store's database file.
 *
 * @example
 * const wal = new WalCheckpointer(db, file, { onError });
 * writes.afterCommit = () => wal.committed();
 * await wal.stop(); // before db.close()
 */
export class WalCheckpointer {
  private state: "idle" | "starting" | "running" | "failed" | "stopped" = "idle";
  private commits = 0;
  private worker: Worker | undefined;
  private readonly startAfter: number;
  private readonly intervalMs: number;

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly options: WalCheckpointerOptions,
  ) {
    this.startAfter = options.startAfterCommits ?? 256;
    this.intervalMs = options.intervalMs ?? 100;
  }

  /** Whether the thread runs the checkpoints now (for tests and diagnostics). */
  get running(): boolean {
    return this.state === "running";
  }

  /** Counts a commit of the store; starts the thread once the store is busy. */
  committed(): void {
    if (this.state === "idle" && ++this.commits >= this.startAfter) this.start();
  }

  /** Stops the thread after one last checkpoint; call before closing the store's connection. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.state = "stopped";
    this.worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage({ type: "stop" });
    const timer = setTimeout(() => void worker.terminate(), 2_000);
    await exited;
    clearTimeout(timer);
  }

  private start(): void {
    this.state = "starting";
    const data: WalThreadData = { file: this.file, intervalMs: this.intervalMs };
    let worker: Worker;
    try {
      worker = new Worker(ENTRY.url, { argv: ENTRY.argv, workerData: data });
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
      return;
    }
    this.worker = worker;
    worker.unref();
    worker.on("message", (message: WalThreadMessage) => {
      if (message.type === "ready" && this.state === "starting") {
        this.state = "running";
        this.autocheckpoint(BACKSTOP_AUTOCHECKPOINT);
      } else if (message.type === "error") this.fail(message.message);
    });
    worker.on("error", (error) => this.fail(error.message));
    worker.on("exit", (code) => {
      if (this.state !== "stopped") this.fail(`it exited with code ${code}`);
    });
  }

  private fail(why: string): void {
    if (this.state === "stopped" || this.state === "failed") return;
    this.state = "failed";
    void this.worker?.terminate();
    this.worker = undefined;
    this.autocheckpoint(DEFAULT_AUTOCHECKPOINT);
    this.options.onError(new Error(`The task database's WAL checkpointer thread stopped (${why}); checkpoints run inside commits again.`));
  }

  private autocheckpoint(pages: number): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${pages}`);
  }
}
