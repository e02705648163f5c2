import { Command } from "commander";
import { loadProject, withSettingFlags } from "../project.js";
import { runUntilStopped } from "../signals.js";

/** Defaults of `kaygraph dev`: loopback, port 3000, human-readable logs, the studio at `/_kaygraph/`. */
export const DEV_DEFAULTS = { name: "dev", values: { server: { host: "127.0.0.1", port: 3000, studio: true }, log: { format: "pretty" as const } } };

/** `kaygraph dev`: one worker, hot reload on change of graphs, config, `.env` and the source they import. */
export function devCommand(): Command {
  return withSettingFlags(new Command("dev"), ["--port", "--host", "--auth", "--rate-limit", "--redis", "--log-level", "--log-format", "--graphs"])
    .description("run the dev server (default 127.0.0.1:3000) with hot reload")
    .action(async (_flags: unknown, command: Command) => {
      const { config, options } = await loadProject(command, DEV_DEFAULTS, { supervised: true });
      const { startDevServer } = await import("../../process/dev-server.js");
      const server = await startDevServer(config, { debug: command.optsWithGlobals<{ debug?: boolean }>().debug === true, load: options });
      await runUntilStopped(server, { stopping: (signal) => `kaygraph: ${signal} received, draining (up to ${config.server.shutdownTimeout}s)` });
    });
}
