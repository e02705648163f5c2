/**
 * The last inline run a worker started, kept in a small file of its own that the primary reads only when it
 * needs it: when the watchdog kills the worker for silence, or when the worker died. Recording a run is one
 * positioned write on the worker's side and wakes nobody. (It was an IPC message per run: a pipe write, a
 * wake-up and a parse in the primary, about a sixth of the server's CPU per request of a trivial inline graph
 * under load — bench/isolation.mjs.) The write is synchronous, so the record is on disk before graph code can
 * block the event loop.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LastRun } from "./liveness.js";

/** The worker's side: records each run it starts, overwriting the previous record. */
export class RunRecordWriter {
  private fd: number | undefined;

  /** Opens (creates or truncates) `file`; it is readable by its owner only. */
  constructor(file: string) {
    this.fd = openSync(file, "w", 0o600);
  }

  /** Records `run` as started now. The record ends at the first newline; older bytes after it are ignored. */
  record(run: Omit<LastRun, "at">): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify({ ...run, at: Date.now() })}\n`, 0, "utf8");
  }

  /** Closes the file (it stays for the primary to read). */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
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
