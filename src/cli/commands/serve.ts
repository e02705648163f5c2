import { Command } from "commander";
import { loadProject, withSettingFlags } from "../project.js";

/** `kaygraph serve`: the production server. */
export function serveCommand(): Command {
  return withSettingFlags(new Command("serve"), ["--port", "--host", "--workers", "--auth", "--rate-limit", "--redis", "--shutdown-timeout", "--worker-timeout", "--max-requests", "--max-memory", "--log-level", "--log-format", "--graphs"])
    .description("run the production server: workers on one port, graceful drain, SIGHUP reload (default 0.0.0.0:8000, JSON logs)")
    .action(async (_flags: unknown, command: Command) => {
      const { config, options } = await loadProject(command, undefined, { supervised: true });
      const { serve } = await import("../serve.js");
      await serve(config, { debug: command.optsWithGlobals<{ debug?: boolean }>().debug === true, load: options });
    });
}
