import os from "node:os";
import path from "node:path";
import type { LoadConfigOptions } from "../config/load.js";
import type { ResolvedConfig } from "../config/schema.js";
import { startClusterLimiterPrimary } from "../security/index.js";
import { createLogger } from "../server/logger.js";
import { freePort } from "./ports.js";
import { Supervisor, WorkerLoadError } from "./supervisor.js";
import { watchProject } from "./watch.js";

/** Options of {@link runCluster}. */
export interface ClusterOptions {
  mode: "serve" | "dev";
  debug: boolean;
  /** How workers load the project (the same inputs the CLI used). */
  load: LoadConfigOptions;
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const sentinel = (line: string) => {
  if (process.env.KAYGRAPH_TEST === "1") say(`kaygraph: ${line}`);
};

/** `workers: "auto"` → the CPU count. */
export function resolveWorkers(workers: ResolvedConfig["workers"]): number {
  return workers === "auto" ? os.availableParallelism() : workers;
}

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
  const supervisor = new Supervisor({ workers, port, standby: dev, worker: { load: options.load, debug: options.debug, exposeErrors: options.debug || dev }, shutdownTimeoutMs: config.server.shutdownTimeout * 1000, logger, say });
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

  const reload = async (reason: string) => {
    const result = started ? await supervisor.reload(reason) : await supervisor.start().then(
      (port) => ({ ok: true as const, ms: 0, port }),
      (error: unknown) => ({ ok: false as const, ms: 0, error: error instanceof WorkerLoadError ? error : new WorkerLoadError(String(error), 1) }),
    );
    if (result.ok) {
      if (!started) announce(supervisor.listeningPort);
      started = true;
      say(`kaygraph: reloaded in ${Math.round(result.ms)} ms (${reason})`);
      logger.info({ reason, ms: Math.round(result.ms) }, "reloaded");
      sentinel(`ready port=${supervisor.listeningPort}`);
    } else {
      say(`kaygraph: reload failed (${reason}); ${started ? "still serving the last good code" : "no server until the code loads"}:\n${result.error.message}`);
      sentinel("reload failed");
    }
  };

  const watcher = dev
    ? watchProject({
        dirs: [config.root, ...(path.relative(config.root, config.graphs).startsWith("..") ? [config.graphs] : [])],
        // Static files are read per request: changing them needs no reload.
        ...(config.server.static !== undefined && { ignore: [config.server.static] }),
        onChange: (paths) => void reload(`${paths.slice(0, 3).join(", ")}${paths.length > 3 ? ` and ${paths.length - 3} more` : ""} changed`),
        onReady: () => sentinel("watcher ready"),
        onError: (error) => logger.warn({ err: error }, "file watcher error"),
      })
    : undefined;

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
