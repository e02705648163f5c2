import type { LoadConfigOptions } from "../config/load.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { KaygraphError } from "../errors.js";
import { startClusterLimiterPrimary } from "../security/index.js";
import { createLogger } from "../server/logger.js";
import { freePort } from "./ports.js";
import { Supervisor, WorkerLoadError, type SupervisorOptions } from "./supervisor.js";
import { resolveWorkers } from "./workers.js";

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  mode: "serve" | "dev";
  debug: boolean;
  /** How workers load the project (the same inputs the CLI used). */
  load: LoadConfigOptions;
  /** Each load attempt's outcome and the user modules it imported (dev watches them). */
  onLoad?: SupervisorOptions["onLoad"];
}

/** What a reload must pick up: graph code only (`graphs`), or settings too (`all`). */
export type ReloadScope = "graphs" | "all";

/** A running cluster: see {@link startCluster}. */
export interface ClusterHandle {
  /** The port every worker listens on. */
  readonly port: number;
  /** False while no worker has loaded the code yet (dev, after a failed first start). */
  readonly serving: boolean;
  /**
   * Rolling restart on fresh code and settings, one worker at a time (a failed load keeps the old workers).
   * Reloads run one at a time; reasons given during one make exactly one more, which names them all.
   * `scope: "graphs"` (dev: only graph code changed, no settings) first tries an in-place reload of the
   * serving worker (see Supervisor.swap) and restarts only if that cannot be done.
   */
  reload(reason: string, scope?: ReloadScope): Promise<void>;
  /** Graceful stop: every worker drains (up to the shutdown deadline), then the handle resolves. */
  close(): Promise<void>;
  /** Kills every worker at once (a second Ctrl-C). */
  kill(): void;
  /** Resolves if the cluster gives up (replacements cannot boot while nothing serves). */
  readonly gaveUp: Promise<KaygraphError>;
}

/**
 * `serve`: an old worker closes a keep-alive socket only after 2 s unused. A client may send a request just as
 * the server closes its idle socket (the request then fails); a socket in use is instead closed after its
 * response, which says `Connection: close`. Waiting longer makes that race rare under a stalled client,
 * at the cost of up to 2 s more per worker in a rolling restart. `dev` has no such race: a replaced worker
 * passes what still reaches it on to its replacement (a handover, see server/handover.ts).
 */
const SERVE_DRAIN_IDLE_MS = 2_000;

/**
 * `dev`'s keep-alive timeout: a replaced worker keeps its idle sockets until their clients stop reusing them
 * (they are told this timeout), so it exits within a few seconds of a reload.
 */
const DEV_KEEP_ALIVE_MS = 5_000;
/**
 * Warm standbys `dev` keeps: two, so that saves coming faster than one standby warms up (about a second of
 * CPU) still find one ready; the second starts only once the first is warm.
 */
const DEV_STANDBYS = 2;

const say = (line: string) => process.stderr.write(`${line}\n`);
const sentinel = (line: string) => {
  if (process.env.KAYGRAPH_TEST === "1") say(`kaygraph: ${line}`);
};

/**
 * Starts the workers of `serve` or `dev` on one shared port and returns a handle to reload or close them.
 * `serve` has the watchdog (`server.workerTimeout`) and recycling (`server.maxRequests`, `maxMemoryMb`);
 * `dev` keeps warm standbys for fast reloads. When the first start fails, `serve` rejects with the
 * {@link WorkerLoadError}; `dev` prints it and returns a handle whose next {@link ClusterHandle.reload} tries
 * again. Installs no signal handlers and never exits: that is the command's job.
 *
 * @example
 * const cluster = await startCluster(config, { mode: "serve", debug: false, load: {} });
 * process.on("SIGHUP", () => void cluster.reload("SIGHUP"));
 * process.on("SIGTERM", () => void cluster.close());
 */
export async function startCluster(config: ResolvedConfig, options: ClusterOptions): Promise<ClusterHandle> {
  const logger = createLogger(config.log);
  // Workers' rate-limit counters live here (see guard.ts); cheap and idle when limits are off.
  startClusterLimiterPrimary();
  const dev = options.mode === "dev";
  const workers = dev ? 1 : resolveWorkers(config.workers);
  const port = config.server.port === 0 ? await freePort(config.server.host) : config.server.port;
  const { server } = config;
  const supervisor = new Supervisor({
    workers,
    port,
    standbys: dev ? DEV_STANDBYS : 0,
    handover: dev,
    followSettings: !dev,
    // Dev keeps creating: deleting .kaygraph there and saving a file starts afresh.
    joinStores: !dev,
    // Dev has no watchdog: a paused debugger must not get its worker killed.
    ...(!dev && { limits: { workerTimeoutMs: server.workerTimeout * 1000, maxRequests: server.maxRequests, maxRequestsJitter: server.maxRequestsJitter, maxMemoryMb: server.maxMemoryMb } }),
    worker: { load: options.load, debug: options.debug, exposeErrors: options.debug || dev, ...(dev ? { keepAliveTimeoutMs: DEV_KEEP_ALIVE_MS } : { drainIdleMs: SERVE_DRAIN_IDLE_MS }) },
    shutdownTimeoutMs: server.shutdownTimeout * 1000,
    ...(options.onLoad && { onLoad: options.onLoad }),
    logger,
    say,
  });
  const shownHost = server.host === "0.0.0.0" || server.host === "::" ? "localhost" : server.host;
  const announce = () => say(`kaygraph ${options.mode}: ${workers} worker${workers === 1 ? "" : "s"} serving http://${shownHost}:${port} (docs: http://${shownHost}:${port}/docs)`);

  let serving = false;
  try {
    await supervisor.start();
    serving = true;
    announce();
    sentinel(`ready port=${port}`);
  } catch (error) {
    if (!dev || !(error instanceof WorkerLoadError)) throw error;
    say(error.message);
    say("kaygraph dev: fix the error and save; watching for changes");
  }

  const reloadOnce = async (reason: string, scope: ReloadScope) => {
    // Saves that come while dev stops are not reloaded.
    if (supervisor.stopped) return;
    const swapped = serving && scope === "graphs" ? await supervisor.swap() : undefined;
    const result = swapped
      ? swapped
      : serving
      ? await supervisor.reload()
      : await supervisor.start().then(
          () => ({ ok: true as const, ms: 0 }),
          (error: unknown) => ({ ok: false as const, ms: 0, error: error instanceof WorkerLoadError ? error : new WorkerLoadError(String(error), 1) }),
        );
    if (supervisor.stopped) return;
    if (result.ok) {
      if (!serving) announce();
      serving = true;
      say(`kaygraph: reloaded in ${Math.round(result.ms)} ms (${reason})`);
      logger.info({ reason, ms: Math.round(result.ms), in_place: swapped !== undefined }, "reloaded");
      sentinel(`ready port=${port}`);
    } else {
      // A worker that died or wedged loading a save in place is gone: the next save starts a new one.
      serving &&= supervisor.serving;
      say(`kaygraph: reload failed (${reason}); ${serving ? "still serving the last good code" : "no server until the code loads"}:\n${result.error.message}`);
      sentinel("reload failed");
    }
  };
  let reloading: Promise<void> | undefined;
  let queued: { reason: string; scope: ReloadScope }[] = [];
  const reload = (reason: string, scope: ReloadScope = "all"): Promise<void> => {
    queued.push({ reason, scope });
    reloading ??= (async () => {
      try {
        while (queued.length > 0) {
          const reasons = [...new Set(queued.map((q) => q.reason))].join("; ");
          const folded = queued.every((q) => q.scope === "graphs") ? "graphs" : "all";
          queued = [];
          await reloadOnce(reasons, folded);
        }
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  return {
    port,
    get serving() {
      return serving;
    },
    reload,
    close: async () => {
      await supervisor.shutdown();
      logger.info("stopped");
      logger.flush();
    },
    kill: () => supervisor.killAll(),
    gaveUp: supervisor.gaveUp,
  };
}
