import type { ResolvedConfig } from "../config/schema.js";
import { loadGraphs } from "../definition/load.js";
import { startServer } from "../server/listen.js";

/** Options of {@link serve}. */
export interface ServeOptions {
  debug: boolean;
}

/**
 * Runs the server in this process until SIGTERM/SIGINT, then drains gracefully (a second signal exits at
 * once). Prints the URL on stderr, and the `kaygraph: ready port=<n>` sentinel under KAYGRAPH_TEST=1.
 */
export async function serve(config: ResolvedConfig, options: ServeOptions): Promise<void> {
  const registry = await loadGraphs(config);
  const handle = await startServer(config, registry, { debug: options.debug });
  handle.logger.info({ port: handle.port, graphs: registry.size }, `listening on ${handle.url}`);
  process.stderr.write(`kaygraph serving ${registry.size} graph(s) on ${handle.url} (docs: ${handle.url}/docs)\n`);
  if (process.env.KAYGRAPH_TEST === "1") process.stderr.write(`kaygraph: ready port=${handle.port}\n`);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`kaygraph: second ${signal}, exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      process.stderr.write(`kaygraph: ${signal} received, draining (up to ${config.server.shutdownTimeout}s)\n`);
      handle.logger.info({ signal }, "draining");
      void handle.close().then(resolve);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
  handle.logger.info("stopped");
  handle.logger.flush();
}
