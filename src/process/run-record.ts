/**
 * The last inline run a worker started, kept in a small file of its own that the primary reads only when it
 * needs it: when the watchdog kills the worker for silence, or when the worker died.
 *
 * Recording a run costs no system call on the request path: the worker's main thread writes the record into
 * shared memory, and a small thread of its own (run-record-thread.ts, started at the first record) copies a new
 * record to the file within {@link FLUSH_INTERVAL_MS}. That thread keeps working while graph code blocks the
 * main event loop, which is when the record matters; a worker that exits (`process.exit()` in graph code, an
 * uncaught error) writes the record itself on its way out. (It was an IPC message per run, then a synchronous
 * write per run: each about a sixth and a fifteenth of the server's CPU per request of a trivial inline graph
 * under load — bench/isolation.mjs.)
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { threadScript } from "../thread-script.js";
import type { LastRun } from "./liveness.js";

/** How often the thread looks for a new record (ms). */
export const FLUSH_INTERVAL_MS = 20;
/** Bytes of a record; a longer one is cut, and reads back as no record. */
const CAPACITY = 4096;
const SCRIPT = threadScript(import.meta.url, "./run-record-thread");

/** What the record thread is started with. */
export interface RunRecordThreadData {
  file: string;
  /** Int32 cells `[sequence, length]` followed by the record's bytes; the sequence is odd while it is written. */
  shared: SharedArrayBuffer;
  intervalMs: number;
}

/** The record in `shared` with its sequence number, or undefined while the main thread is writing it. */
export function readShared(shared: SharedArrayBuffer): { sequence: number; bytes: Uint8Array } | undefined {
  const cells = new Int32Array(shared, 0, 2);
  const sequence = Atomics.load(cells, 0);
  if ((sequence & 1) !== 0) return undefined;
  const bytes = new Uint8Array(shared, 8, Atomics.load(cells, 1)).slice();
  return Atomics.load(cells, 0) === sequence ? { sequence, bytes } : undefined;
}

/** Writes a record's bytes at the start of `fd`, ended by a newline (older bytes after it are ignored). */
export function writeRecord(fd: number, bytes: Uint8Array): void {
  const line = new Uint8Array(bytes.length + 1);
  line.set(bytes);
  line[bytes.length] = 0x0a;
  writeSync(fd, line, 0, line.length, 0);
}

/** The worker's side: records each run it starts, replacing the previous record. */
export class RunRecordWriter {
  private readonly shared = new SharedArrayBuffer(8 + CAPACITY);
  private readonly cells = new Int32Array(this.shared, 0, 2);
  private readonly bytes = new Uint8Array(this.shared, 8);
  private readonly encoder = new TextEncoder();
  private thread: Worker | undefined;
  /** Set when the thread could not run: each record is then written at once. */
  private direct = false;
  private closed = false;

  /** Creates (or truncates) `file`, readable by its owner only. */
  constructor(private readonly file: string) {
    closeSync(openSync(file, "w", 0o600));
    process.once("exit", this.flush);
  }

  /** Records `run` as started now. */
  record(run: Omit<LastRun, "at">): void {
    if (this.closed) return;
    const sequence = this.cells[0]!;
    Atomics.store(this.cells, 0, sequence + 1);
    // The JSON of { ...run, at } written out by hand: no object made per run.
    const id = run.requestId === undefined ? "" : `,"requestId":${JSON.stringify(run.requestId)}`;
    const line = `{"graph":${JSON.stringify(run.graph)},"version":${run.version},"kind":${JSON.stringify(run.kind)}${id},"at":${Date.now()}}`;
    const { written } = this.encoder.encodeInto(line, this.bytes);
    Atomics.store(this.cells, 1, written);
    Atomics.store(this.cells, 0, sequence + 2);
    if (this.direct) this.flush();
    else if (this.thread === undefined) this.startThread();
  }

  /** Stops the thread and writes the last record (the file stays for the primary to read). */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    process.off("exit", this.flush);
    void this.thread?.terminate();
    this.thread = undefined;
  }

  /** Writes the current record from this thread (on exit, on close, or when the thread could not run). */
  private readonly flush = (): void => {
    if (this.closed || this.cells[0] === 0) return;
    let fd: number | undefined;
    try {
      fd = openSync(this.file, "r+");
      writeRecord(fd, this.bytes.subarray(0, this.cells[1]));
    } catch {
      // The primary's directory is gone (it is shutting down): nobody will read the record.
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  };

  /** Starts the thread; when it cannot start (a thread limit), each record is written at once instead. */
  private startThread(): void {
    const data: RunRecordThreadData = { file: this.file, shared: this.shared, intervalMs: FLUSH_INTERVAL_MS };
    let thread: Worker;
    try {
      thread = new Worker(SCRIPT.url, { argv: SCRIPT.argv, workerData: data, stdout: false, stderr: false, resourceLimits: { maxOldGenerationSizeMb: 16 } });
    } catch {
      this.direct = true;
      this.flush();
      return;
    }
    this.thread = thread;
    thread.unref();
    const fallBack = () => {
      if (this.thread !== thread || this.closed) return;
      this.direct = true;
      this.flush();
    };
    thread.once("error", fallBack);
    thread.once("exit", fallBack);
  }
}

/** The run recorded in `file`, or undefined when there is none (nothing recorded, no file, unreadable). */
export function readRunRecord(file: string | undefined): LastRun | undefined {
  if (file === undefined) return undefined;
  try {
    const text = readFileSync(file, "utf8");
    const end = text.indexOf("\n");
    if (end < 0) return undefined;
    const run = JSON.parse(text.slice(0, end)) as Partial<LastRun>;
    if (typeof run.graph !== "string" || typeof run.version !== "number" || typeof run.kind !== "string" || typeof run.at !== "number") return undefined;
    return { graph: run.graph, version: run.version, kind: run.kind, ...(typeof run.requestId === "string" && { requestId: run.requestId }), at: run.at };
  } catch {
    return undefined;
  }
}

/**
 * The primary's side: one private directory under the OS temp directory, one record file per worker it
 * starts, removed when the worker is gone and all of it on {@link RunRecords.remove}.
 */
export class RunRecords {
  private dir: string | undefined;
  private unavailable = false;
  private next = 0;

  /**
   * A new file name for a worker about to start (the directory is created on first use), or undefined when
   * the temp directory is not writable (a read-only container): the watchdog then names no run.
   */
  fileFor(): string | undefined {
    if (this.dir === undefined) {
      if (this.unavailable) return undefined;
      try {
        this.dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-runs-"));
      } catch {
        this.unavailable = true;
        return undefined;
      }
      // However the primary ends (a give-up, an error), short of being killed, the directory goes with it.
      process.once("exit", this.remove);
    }
    return path.join(this.dir, `worker-${++this.next}.run`);
  }

  /** Forgets one worker's file. */
  discard(file: string | undefined): void {
    if (file !== undefined) rmSync(file, { force: true });
  }

  /** Removes the directory and every file in it. */
  readonly remove = (): void => {
    if (this.dir === undefined) return;
    rmSync(this.dir, { recursive: true, force: true });
    process.off("exit", this.remove);
    this.dir = undefined;
  };
}
