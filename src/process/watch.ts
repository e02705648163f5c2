import { traceReload } from "../reload-trace.js";
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
 */
export function watchProject(options: WatchOptions): FSWatcher {
  const root = options.dirs[0] as string;
  const skip = (options.ignore ?? []).map((dir) => path.resolve(dir));
  const ignored = (file: string) =>
    path.relative(root, file).split(path.sep).some((part) => IGNORED.has(part)) || skip.some((dir) => file === dir || file.startsWith(`${dir}${path.sep}`));
  const watcher = watch(options.dirs, { ignoreInitial: true, ignored, awaitWriteFinish: false });
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  watcher.on("all", (event, file) => {
    traceReload(`watch ${event} ${file}`);
    if (options.relevant && !options.relevant(path.resolve(file))) return;
    pending.add(path.relative(root, file) || file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const batch = [...pending].sort();
      pending = new Set();
      traceReload("debounced");
      options.onChange(batch);
    }, options.debounceMs ?? 60);
  });
  watcher.on("ready", () => options.onReady?.());
  watcher.on("error", (error) => options.onError?.(error));
  return watcher;
}
