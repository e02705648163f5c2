/**
 * The WAL checkpointer thread of the embedded store (started by {@link WalCheckpointer}): its own connection to
 * the database file, copying committed WAL frames back into the file every `intervalMs` with a PASSIVE
 * checkpoint, which never waits for readers or writers. That copy and its fsyncs are the slow part of SQLite
 * under `synchronous = NORMAL`; here they run beside the process's event loop instead of inside a commit.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { WalThreadData, WalThreadMessage } from "./sqlite-wal-checkpointer.js";

if (parentPort === null) throw new Error("sqlite-wal-thread.js runs as a worker thread of the task store");
const port = parentPort;
const { file, intervalMs } = workerData as WalThreadData;

const post = (message: WalThreadMessage): void => port.postMessage(message);

let db: Database.Database;
try {
  db = new Database(file, { fileMustExist: true });
  // A checkpoint that finds the lock taken (another process's checkpointer) just tries again next time.
  db.pragma("busy_timeout = 0");
} catch (error) {
  post({ type: "error", message: error instanceof Error ? error.message : String(error) });
  process.exit(0);
}

const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const timer = setInterval(() => {
  try {
    checkpoint.run();
  } catch (error) {
    if ((error as { code?: unknown }).code === "SQLITE_BUSY") return;
    clearInterval(timer);
    post({ type: "error", message: error instanceof Error ? error.message : String(error) });
    db.close();
  }
}, intervalMs);
post({ type: "ready" });

port.on("message", (message: { type: "stop" }) => {
  if (message.type !== "stop") return;
  clearInterval(timer);
  // One last copy, so a stopped store leaves a short WAL behind.
  try {
    checkpoint.run();
  } catch {
    // best effort: the next opener's checkpoints copy what is left
  }
  db.close();
  port.close();
});
