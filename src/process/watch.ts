import { traceReload } from "../reload-trace.js";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { watch, type FSWatcher } from "chokidar";

/** Folders never watched: dependencies, build output, kaygraph's own state, git. */
const IGNORED = new Set(["node_modules", "dist", ".kaygraph", ".git"]);

/** Options of {@link watchProject}. */
export interface WatchOptions {
  /** Directories to watch recursively (the project root, and the graphs directory when it lies outside). */
  dirs: string[];
  /** Folders (absolute) whose changes are not reported. */
  ignore?: string[];
  /** Whether a change to this file (absolute path) matters; default: every file. Asked when the change happens. */
  relevant?: (file: string) => boolean;
  /** Quiet period before a batch of changes is reported. */
  debounceMs?: number;
  /** Called with the changed paths (relative to the first dir) after the quiet period. */
  onChange: (paths: string[]) => void;
  onReady?: () => void;
  onError?: (error: unknown) => void;
}

/**
 * Watches the project's files with chokidar and reports batches of relevant changes (see `relevant`) after a
 * short quiet period, so a save that touches several files reloads once.
 *
 * A file's content changes are also taken from chokidar's raw events: chokidar drops its own `change` event
 * for about one save in two when saves come tens of milliseconds apart (its per-file throttle and its access-time
 * check; in-place reloads make such saves common). After the quiet period, a file whose content is what was
 * last reported for it is left out of the batch (other events about a write already reported).
 */
export function watchProject(options: WatchOptions): FSWatcher {
  const root = options.dirs[0] as string;
  const skip = (options.ignore ?? []).map((dir) => path.resolve(dir));
  const ignored = (file: string) =>
    path.relative(root, file).split(path.sep).some((part) => IGNORED.has(part)) || skip.some((dir) => file === dir || file.startsWith(`${dir}${path.sep}`));
  const watcher = watch(options.dirs, { ignoreInitial: true, ignored, awaitWriteFinish: false });
  /** Changed files (absolute) waiting for the quiet period: true when only their content changed. */
  let pending = new Map<string, boolean>();
  let timer: NodeJS.Timeout | undefined;
  /** A digest of each file's content as last reported. */
  const reported = new Map<string, string>();
  const note = (file: string, contentOnly: boolean): void => {
    if (options.relevant && !options.relevant(file)) return;
    pending.set(file, contentOnly && (pending.get(file) ?? true));
    clearTimeout(timer);
    timer = setTimeout(flush, options.debounceMs ?? 60);
  };
  // After the quiet period a file whose content is what was last reported is left out: other events about a
  // write already reported (chokidar's own, seconds late on a busy machine), or a save of the same text.
  let deferredSince: number | undefined;
  let closed = false;
  const flush = (): void => {
    if (closed) return;
    // A file just emptied is most likely being written (truncated, its text not in yet): more quiet periods, for
    // up to EMPTIED_WAIT_MS (on a busy machine the text can follow the truncation by hundreds of ms; a reload of
    // the empty file would fail, then the text would reload again). A file left empty is reported after that.
    const now = Date.now();
    if (now - (deferredSince ?? now) < EMPTIED_WAIT_MS && [...pending.keys()].some((file) => emptied(file))) {
      deferredSince ??= now;
      timer = setTimeout(flush, options.debounceMs ?? 60);
      return;
    }
    deferredSince = undefined;
    const batch: string[] = [];
    for (const [file, contentOnly] of pending) {
      const digest = contentDigest(file);
      if (contentOnly && digest !== undefined && reported.get(file) === digest) continue;
      if (digest === undefined) reported.delete(file);
      else reported.set(file, digest);
      batch.push(path.relative(root, file) || file);
    }
    pending = new Map();
    traceReload("debounced");
    if (batch.length > 0) options.onChange(batch.sort());
  };
  watcher.on("all", (event, file) => {
    traceReload(`watch ${event} ${file}`);
    // A new file's `add` comes after its raw `change` (chokidar stats it first): with the content already reported
    // it is the same save, not a second one. A file removed and made again is reported (its removal forgot it).
    note(path.resolve(file), event === "change" || event === "add");
  });
  watcher.on("raw", (event, name, details) => {
    const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (event !== "change" || typeof name !== "string" || typeof watched !== "string") return;
    // A file's own watcher names the file; a folder's names a file in it.
    const file = path.resolve(path.basename(watched) === name ? watched : path.join(watched, name));
    if (ignored(file)) return;
    traceReload(`watch raw change ${file}`);
    note(file, true);
  });
  watcher.on("ready", () => options.onReady?.());
  watcher.on("error", (error) => options.onError?.(error));
  // Closed, nothing more is reported: a batch waiting for its quiet period (or for an emptied file's text) is dropped.
  const close = watcher.close.bind(watcher);
  watcher.close = () => {
    closed = true;
    clearTimeout(timer);
    return close();
  };
  return watcher;
}

/** How long a batch with a file just emptied waits for its text (see the flush in {@link watchProject}). */
const EMPTIED_WAIT_MS = 1_500;

/** True for an empty file (not a folder, not gone). */
function emptied(file: string): boolean {
  try {
    const stats = statSync(file);
    return stats.isFile() && stats.size === 0;
  } catch {
    return false;
  }
}

/** A digest of a file's content; undefined when it cannot be read (gone, or a folder). */
function contentDigest(file: string): string | undefined {
  try {
    return createHash("sha1").update(readFileSync(file)).digest("base64");
  } catch {
    return undefined;
  }
}
