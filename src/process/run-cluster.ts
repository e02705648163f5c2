import path from "node:path";
import { CONFIG_FILES, type LoadConfigOptions } from "../config/load.js";
import type { ResolvedConfig } from "../config/schema.js";
import { startClusterLimiterPrimary } from "../security/index.js";
import { createLogger } from "../server/logger.js";
import { freePort } from "./ports.js";
import { Supervisor, WorkerLoadError } from "./supervisor.js";
import { isGlob } from "../definition/glob.js";
import { watchProject, type WatchOptions } from "./watch.js";
import { resolveWorkers } from "./workers.js";

/** Options of {@link runCluster}. */
export interface ClusterOptions {
  mode: "serve" | "dev";
  debug: boolean;
  /** How workers load the project (the same inputs the CLI used). */
  load: LoadConfigOptions;
}

/**
 * `serve`: an old worker closes a keep-alive socket only after 2 s unused. A client may send a request just as
 * the server closes its idle socket (the request then fails); a socket in use is instead closed after its
 * response, which says `Connection: close`. Waiting longer makes that race rare under a stalled client,
 * at the cost of up to 2 s more per worker in a rolling restart. `dev` keeps 250 ms: reloads stay fast.
 */
const SERVE_DRAIN_IDLE_MS = 2_000;

const say = (line: string) => process.stderr.write(`${line}\n`);
const sentinel = (line: string) => {
  if (process.env.KAYGRAPH_TEST === "1") say(`kaygraph: ${line}`);
};

/**
 * Runs `serve` or `dev` under the supervisor until a signal: workers on a shared port, crash replacement,
 * graceful drain on SIGTERM/SIGINT (a second signal exits at once), rolling reload on SIGHUP (serve) or on
 * file changes (dev). Sets process.exitCode: 0 after a clean stop, the load error's code when the first
 * start fails in `serve`, 1 after a crash loop.
 */
export async function runCluster(config: ResolvedConfig, options: ClusterOptions): Promise<void> {
  const logger = createLogger(config.log);
  // Workers' rate-limit counters live here (see guard.ts); cheap and idle when limits are off.
  startClusterLimiterPrimary();
  const dev = options.mode === "dev";
  const workers = dev ? 1 : resolveWorkers(config.workers);
  const port = config.server.port === 0 ? await freePort(config.server.host) : config.server.port;
  const supervisor = new Supervisor({ workers, port, standby: dev, followSettings: !dev, worker: { load: options.load, debug: options.debug, exposeErrors: options.debug || dev, ...(!dev && { drainIdleMs: SERVE_DRAIN_IDLE_MS }) }, shutdownTimeoutMs: config.server.shutdownTimeout * 1000, logger, say });
  const shownHost = config.server.host === "0.0.0.0" || config.server.host === "::" ? "localhost" : config.server.host;
  const announce = (port: number) => say(`kaygraph ${options.mode}: ${workers} worker${workers === 1 ? "" : "s"} serving http://${shownHost}:${port} (docs: http://${shownHost}:${port}/docs)`);

  let started = false;
  try {
    announce(await supervisor.start());
    started = true;
    sentinel(`ready port=${supervisor.listeningPort}`);
  } catch (error) {
    if (!(error instanceof WorkerLoadError)) throw error;
    say(error.message);
    if (!dev) {
      process.exitCode = error.exitCode;
      return;
    }
    say("kaygraph dev: fix the error and save; watching for changes");
  }

  const reloadOnce = async (reason: string) => {
    const result = started ? await supervisor.reload() : await supervisor.start().then(
      (port) => ({ ok: true as const, ms: 0, port }),
      (error: unknown) => ({ ok: false as const, ms: 0, error: error instanceof WorkerLoadError ? error : new WorkerLoadError(String(error), 1) }),
    );
    if (result.ok) {
      if (!started) announce(supervisor.listeningPort);
      started = true;
      watchOutside();
      say(`kaygraph: reloaded in ${Math.round(result.ms)} ms (${reason})`);
      logger.info({ reason, ms: Math.round(result.ms) }, "reloaded");
      sentinel(`ready port=${supervisor.listeningPort}`);
    } else {
      say(`kaygraph: reload failed (${reason}); ${started ? "still serving the last good code" : "no server until the code loads"}:\n${result.error.message}`);
      sentinel("reload failed");
    }
  };
  // Reloads run one at a time; changes that arrive during one make exactly one more, which names them all.
  let reloading = false;
  let queued: string[] = [];
  const reload = async (reason: string) => {
    queued.push(reason);
    if (reloading) return;
    reloading = true;
    try {
      while (queued.length > 0) {
        const reasons = [...new Set(queued)].join("; ");
        queued = [];
        await reloadOnce(reasons);
      }
    } finally {
      reloading = false;
    }
  };

  const scope = dev ? watchScope(config, options.load, supervisor) : undefined;
  const watcher = scope ? watchProject({ ...scope, onChange: (paths) => void reload(describeChange(paths)), onReady: () => sentinel("watcher ready"), onError: (error) => logger.warn({ err: error }, "file watcher error") }) : undefined;
  // Modules imported from outside the project (a monorepo's shared package) are watched file by file.
  const watchOutside = () => {
    if (!watcher || !scope) return;
    const outside = supervisor.moduleFiles.filter((file) => !scope.dirs.some((dir) => file.startsWith(`${dir}${path.sep}`)));
    if (outside.length > 0) watcher.add(outside);
  };
  watchOutside();

  const stopped = new Promise<void>((resolve) => {
    let stopping = 0;
    const onStop = (signal: NodeJS.Signals) => {
      // One signal sent to both us and our process group arrives twice at once: that is not a second signal.
      if (stopping && Date.now() - stopping < 300) return;
      if (stopping) {
        say(`kaygraph: second ${signal}, exiting now`);
        supervisor.killAll();
        process.exit(130);
      }
      stopping = Date.now();
      say(`kaygraph: ${signal} received, draining (up to ${config.server.shutdownTimeout}s)`);
      void watcher?.close();
      void supervisor.shutdown().then(resolve);
    };
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    process.on("SIGHUP", () => void reload("SIGHUP"));
  });

  const outcome = await Promise.race([stopped.then(() => undefined), supervisor.gaveUp]);
  if (outcome) {
    await watcher?.close();
    await supervisor.shutdown();
    throw outcome;
  }
  logger.info("stopped");
  logger.flush();
}

const describeChange = (paths: string[]) => `${paths.slice(0, 3).join(", ")}${paths.length > 3 ? ` and ${paths.length - 3} more` : ""} changed`;

/** Code a change of which may change what the workers run, when the last load told us nothing better. */
const SOURCE_FILE = /\.(?:[cm]?[jt]sx?|json)$/;

/**
 * What `kaygraph dev` reloads on: anything in the graphs directory, the config file, `.env`, `package.json`
 * and `tsconfig.json`, and the user's modules the serving code imported (reported by the workers). Other
 * files in the project — logs, databases, a graph's own output — never trigger a reload; while no code has
 * loaded (or the last load failed) any source file does, so fixing the broken import recovers.
 */
function watchScope(config: ResolvedConfig, load: LoadConfigOptions, supervisor: Supervisor): Pick<WatchOptions, "dirs" | "ignore" | "relevant"> {
  const cwd = path.resolve(load.cwd ?? process.cwd());
  const graphsDir = graphsBase(config.graphs, config.root);
  const projectFiles = new Set([path.join(cwd, ".env"), path.join(config.root, "package.json"), path.join(config.root, "tsconfig.json"), ...CONFIG_FILES.map((name) => path.join(config.root, name))]);
  if (config.configFile) projectFiles.add(path.resolve(config.configFile));
  const inside = (dir: string, file: string) => file === dir || file.startsWith(`${dir}${path.sep}`);
  return {
    dirs: [config.root, ...(inside(config.root, graphsDir) ? [] : [graphsDir])],
    // Static files are read per request: changing them needs no reload.
    ...(config.server.static !== undefined && { ignore: [config.server.static] }),
    relevant: (file) =>
      inside(graphsDir, file) || projectFiles.has(file) || supervisor.usesModule(file) || (supervisor.lastLoadFailedOrNone && SOURCE_FILE.test(file)),
  };
}

/** The directory a `graphs` setting (a directory or a glob) lives under. */
function graphsBase(graphs: string, root: string): string {
  const absolute = path.resolve(root, graphs);
  if (!isGlob(absolute)) return absolute;
  const parts = absolute.split(path.sep);
  const firstGlob = parts.findIndex((part) => isGlob(part));
  return parts.slice(0, firstGlob).join(path.sep) || path.sep;
}
