import type { LoadConfigOptions } from "../config/load.js";
import type { ResolvedConfig } from "../config/schema.js";
import { Errors, KaygraphError } from "../errors.js";
import { runUntilStopped } from "./signals.js";

/** Options of {@link serve}. */
export interface ServeOptions {
  debug: boolean;
  load: LoadConfigOptions;
}

/**
 * `kaygraph serve`: the cluster with `workers` processes until a signal (SIGHUP reloads, SIGTERM/SIGINT drain).
 * Exit codes: a worker's load error at start keeps its own (a config error is 2); a worker that died while
 * booting without saying why is `KG_SERVER_CRASH_LOOP` (1), as is a cluster whose replacements cannot boot.
 */
export async function serve(config: ResolvedConfig, options: ServeOptions): Promise<void> {
  const { startCluster } = await import("../process/cluster.js");
  const { WorkerLoadError } = await import("../process/supervisor.js");
  let cluster;
  try {
    cluster = await startCluster(config, { mode: "serve", debug: options.debug, load: options.load });
  } catch (error) {
    if (!(error instanceof WorkerLoadError)) throw error;
    if (!error.reported) throw new KaygraphError(Errors.ServerCrashLoop, { message: `${error.message} Giving up.`, hint: "Run `kaygraph run <graph>` or `kaygraph graphs` to see the error, or start with --debug." });
    process.stderr.write(`${error.message}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  await runUntilStopped(cluster, {
    stopping: (signal) => `kaygraph: ${signal} received, draining (up to ${config.server.shutdownTimeout}s)`,
    onHangup: () => void cluster.reload("SIGHUP"),
  });
}
