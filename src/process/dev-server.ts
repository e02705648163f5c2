import { readFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_FILES, type LoadConfigOptions } from "../config/load.js";
import type { ResolvedConfig } from "../config/schema.js";
import { isGlob } from "../definition/glob.js";
import { createLogger } from "../server/logger.js";
import { startCluster, type ClusterHandle } from "./cluster.js";
import { watchProject, type WatchOptions } from "./watch.js";

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  debug: boolean;
  /** How the worker loads the project (the same inputs the CLI used). */
  load: LoadConfigOptions;
}

/** A running dev server: the cluster handle, whose `close` also stops the file watcher. */
export type DevServerHandle = Pick<ClusterHandle, "port" | "close" | "kill" | "gaveUp" | "reload">;

/**
 * The user modules the last load imported, and whether it failed: what `kaygraph dev` watches besides the
 * project's fixed files.
 */
class LoadedModules {
  private files = new Set<string>();
  private settingsFiles = new Set<string>();
  private failed = false;

  /**
   * A load finished: a good one replaces the set; a failed one adds its files (fixing them should recover).
   * A worker's start also says which of them the config file imported (`settingsModules`).
   */
  record(outcome: { ok: boolean; modules: string[]; settingsModules?: string[] }): void {
    if (outcome.ok) this.files = new Set(outcome.modules);
    else for (const file of outcome.modules) this.files.add(file);
    if (outcome.settingsModules) this.settingsFiles = new Set(outcome.settingsModules);
    this.failed = !outcome.ok;
  }

  has(file: string): boolean {
    return this.files.has(file);
  }

  /** A module the config file imports: read once at a worker's start, like the config itself. */
  settings(file: string): boolean {
    return this.settingsFiles.has(file);
  }

  get all(): string[] {
    return [...this.files];
  }

  /** True when no code has loaded yet, or the last load failed. */
  get failedOrNone(): boolean {
    return this.failed || this.files.size === 0;
  }
}

/**
 * Quiet period after a change before the reload: an editor's save (write, rename, chmod) lands within a few
 * milliseconds; a burst of saves that outlasts it is folded into one more reload (see ClusterHandle.reload).
 */
const DEBOUNCE_MS = 10;

const sentinel = (line: string) => {
  if (process.env.KAYGRAPH_TEST === "1") process.stderr.write(`kaygraph: ${line}\n`);
};

/**
 * `kaygraph dev`: one worker (with a warm standby) under the cluster supervisor, reloaded on every relevant
 * change of the project's files (see {@link watchScope}). A change that does not load keeps the last good
 * worker serving. Installs no signal handlers: the command does.
 */
export async function startDevServer(config: ResolvedConfig, options: DevServerOptions): Promise<DevServerHandle> {
  const logger = createLogger(config.log);
  const modules = new LoadedModules();
  let watchOutside = () => undefined as void;
  const cluster = await startCluster(config, {
    mode: "dev",
    debug: options.debug,
    load: options.load,
    onLoad: (outcome) => {
      modules.record(outcome);
      if (outcome.ok) watchOutside();
    },
  });
  const scope = watchScope(config, options.load, modules);
  const describeChange = (paths: string[]) => `${paths.slice(0, 3).join(", ")}${paths.length > 3 ? ` and ${paths.length - 3} more` : ""} changed`;
  // Graph code alone changed: the serving worker reloads it in place (see inPlaceReloadable); else a new process.
  const reloadScope = (paths: string[]) => (paths.every((file) => scope.inPlace(path.resolve(config.root, file))) ? "graphs" : "all");
  const watcher = watchProject({ ...scope, debounceMs: DEBOUNCE_MS, onChange: (paths) => void cluster.reload(describeChange(paths), reloadScope(paths)), onReady: () => sentinel("watcher ready"), onError: (error) => logger.warn({ err: error }, "file watcher error") });
  // Modules imported from outside the project (a monorepo's shared package) are watched file by file.
  watchOutside = () => {
    const outside = modules.all.filter((file) => !scope.dirs.some((dir) => file.startsWith(`${dir}${path.sep}`)));
    if (outside.length > 0) watcher.add(outside);
  };
  watchOutside();
  return {
    port: cluster.port,
    reload: cluster.reload,
    kill: cluster.kill,
    gaveUp: cluster.gaveUp,
    close: async () => {
      await watcher.close();
      await cluster.close();
    },
  };
}

/** Code a change of which may change what the workers run, when the last load told us nothing better. */
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|json)$/;

/**
 * What `kaygraph dev` reloads on: anything in the graphs directory, the config file, `.env`, `package.json`
 * and `tsconfig.json`, and the user's modules the serving code imported (reported by the workers). Other
 * files in the project — logs, databases, a graph's own output — never trigger a reload; while no code has
 * loaded (or the last load failed) any source file does, so fixing the broken import recovers.
 */
function watchScope(config: ResolvedConfig, load: LoadConfigOptions, modules: LoadedModules): Pick<WatchOptions, "dirs" | "ignore" | "relevant"> & { inPlace: (file: string) => boolean } {
  const cwd = path.resolve(load.cwd ?? process.cwd());
  const graphsDir = graphsBase(config.graphs, config.root);
  const projectFiles = new Set([path.join(cwd, ".env"), path.join(config.root, "package.json"), path.join(config.root, "tsconfig.json"), ...CONFIG_FILES.map((name) => path.join(config.root, name))]);
  if (config.configFile) projectFiles.add(path.resolve(config.configFile));
  const inside = (dir: string, file: string) => file === dir || file.startsWith(`${dir}${path.sep}`);
  return {
    dirs: [config.root, ...(inside(config.root, graphsDir) ? [] : [graphsDir])],
    // Static files are read per request: changing them needs no reload.
    ...(config.server.static !== undefined && { ignore: [config.server.static] }),
    relevant: (file) => inside(graphsDir, file) || projectFiles.has(file) || modules.has(file) || (modules.failedOrNone && SOURCE_FILE.test(file)),
    // Not the config (or a module it imports), `.env`, `package.json` or `tsconfig.json`: a worker reads those once, at its start.
    inPlace: (file) => !projectFiles.has(file) && !modules.settings(file) && inside(config.root, file) && esModule(file),
  };
}

/**
 * Whether `file` loads as an ES module, by Node's rule: `.mjs`/`.mts` do, `.cjs`/`.cts` do not, other sources
 * when the nearest package.json says `"type": "module"` (read at each reload: it may change). Only ES modules
 * load again in place (see generation-hook.ts); CommonJS modules stay in `require`'s cache, so a change to one
 * needs a new process. JSON and other files: a new process too.
 */
function esModule(file: string): boolean {
  if (/\.m[jt]s$/.test(file)) return true;
  if (!/\.[jt]sx?$/.test(file)) return false;
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { type?: unknown }).type === "module";
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || path.dirname(dir) === dir) return false;
    }
  }
}

/** The directory a `graphs` setting (a directory or a glob) lives under. */
function graphsBase(graphs: string, root: string): string {
  const absolute = path.resolve(root, graphs);
  if (!isGlob(absolute)) return absolute;
  const parts = absolute.split(path.sep);
  const firstGlob = parts.findIndex((part) => isGlob(part));
  return parts.slice(0, firstGlob).join(path.sep) || path.sep;
}
