import { traceReload } from "../reload-trace.js";
import { statSync } from "node:fs";
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
 * A file's content changes are also taken from chokidar's raw events: its own `change` event is dropped when
 * the file was read since its last change and is written again within a few tens of milliseconds (an in-place
 * reload reads a saved file at once, and the next save often comes that soon). Each change is reported once per
 * modification time, whichever event sees it first.
 */
export function watchProject(options: WatchOptions): FSWatcher {
  const root = options.dirs[0] as string;
  const skip = (options.ignore ?? []).map((dir) => path.resolve(dir));
  const ignored = (file: string) =>
    path.relative(root, file).split(path.sep).some((part) => IGNORED.has(part)) || skip.some((dir) => file === dir || file.startsWith(`${dir}${path.sep}`));
  const watcher = watch(options.dirs, { ignoreInitial: true, ignored, awaitWriteFinish: false });
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  /** The modification times of each file's last few reported changes (events about one write come in any order). */
  const reported = new Map<string, number[]>();
  const changed = (file: string, mtimeMs: number | undefined): void => {
    if (mtimeMs !== undefined) {
      const times = reported.get(file) ?? [];
      if (times.includes(mtimeMs)) return;
      reported.set(file, [...times.slice(-3), mtimeMs]);
    }
    note(file);
  };
  watcher.on("all", (event, file, stats) => {
    traceReload(`watch ${event} ${file}`);
    changed(path.resolve(file), event === "change" ? stats?.mtimeMs : undefined);
  });
  watcher.on("raw", (event, name, details) => {
    const watched = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
    if (event !== "change" || typeof name !== "string" || typeof watched !== "string") return;
    // A file's own watcher names the file; a folder's names a file in it.
    const file = path.resolve(path.basename(watched) === name ? watched : path.join(watched, name));
    if (ignored(file) || (options.relevant && !options.relevant(file))) return;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return;
    }
    traceReload(`watch raw change ${file}`);
    changed(file, mtimeMs);
  });
  function note(file: string): void {
    if (options.relevant && !options.relevant(file)) return;
    pending.add(path.relative(root, file) || file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const batch = [...pending].sort();
      pending = new Set();
      traceReload("debounced");
      options.onChange(batch);
    }, options.debounceMs ?? 60);
  }
  watcher.on("ready", () => options.onReady?.());
  watcher.on("error", (error) => options.onError?.(error));
  return watcher;
}
