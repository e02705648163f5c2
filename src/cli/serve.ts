import type { LoadConfigOptions } from "../config/load.js";
import type { ResolvedConfig } from "../config/schema.js";

/** Options of {@link serve}. */
export interface ServeOptions {
  debug: boolean;
  load: LoadConfigOptions;
}

/** `kaygraph serve`: the supervisor with `workers` processes (SIGHUP reloads, SIGTERM drains). */
export async function serve(config: ResolvedConfig, options: ServeOptions): Promise<void> {
  const { runCluster } = await import("../process/run-cluster.js");
  await runCluster(config, { mode: "serve", debug: options.debug, load: options.load });
}
