/**
 * The identity of a database file (device and inode), recorded when a process opens it. A process whose file
 * is no longer the one at the path (deleted, replaced by a restore, moved away) would otherwise keep writing to
 * a file nobody else sees while new processes create a second, empty store beside it: the split that makes
 * `GET /tasks/{id}` answer by worker. The store checks the identity on every probe and stops when it changed.
 */
import { statSync } from "node:fs";

/** Device and inode of a file. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/** What happened to the opened file, as seen from its path. */
export type IdentityChange = "deleted" | "replaced";

/**
 * The identity of the file at `file` now, or undefined when there is none.
 *
 * @example
 * const opened = fileIdentity(".kaygraph/kaygraph.db");
 */
export function fileIdentity(file: string): FileIdentity | undefined {
  const stat = statSync(file, { throwIfNoEntry: false });
  return stat === undefined ? undefined : { dev: stat.dev, ino: stat.ino };
}

/**
 * Compares the identity recorded at open with the file at the path now: undefined when it is the same file.
 *
 * @example
 * identityChange({ dev: 1, ino: 7 }, undefined); // "deleted"
 * identityChange({ dev: 1, ino: 7 }, { dev: 1, ino: 9 }); // "replaced"
 */
export function identityChange(opened: FileIdentity, now: FileIdentity | undefined): IdentityChange | undefined {
  if (now === undefined) return "deleted";
  return now.dev === opened.dev && now.ino === opened.ino ? undefined : "replaced";
}

/** The reason shown to callers and `/ready` (no path). */
export function identityReason(change: IdentityChange): string {
  return change === "deleted"
    ? "the database file was deleted or moved while in use"
    : "the database file was replaced by another file while in use";
}

/**
 * The one log line that tells an operator what happened and how to recover.
 *
 * @example
 * logger.error({ file }, identityLogMessage("deleted", file));
 */
export function identityLogMessage(change: IdentityChange, file: string): string {
  const what = change === "deleted" ? `was deleted or moved away` : `was replaced by another file`;
  return (
    `task store stopped: the database file ${file} ${what} while this process had it open. ` +
    `This process no longer uses it (task routes answer 503, /ready answers 503) and never creates a new one beside it. ` +
    `To recover: put the original file back at that path (this process resumes by itself), or restore a backup there and ` +
    `reload (SIGHUP) or restart the service; to start with an empty store, stop the service, then start it again.`
  );
}

/**
 * The probe's finding that the opened file is no longer the one at the path.
 *
 * @example
 * if (error instanceof StoreIdentityError) stopUsing(error.change);
 */
export class StoreIdentityError extends Error {
  constructor(
    readonly change: IdentityChange,
    readonly file: string,
  ) {
    super(identityLogMessage(change, file));
    this.name = "StoreIdentityError";
  }
}
