import { Command } from "commander";
import { loadProject, withSettingFlags } from "../project.js";

/** `kaygraph worker`: background-task workers only, no HTTP. */
export function workerCommand(): Command {
  return withSettingFlags(new Command("worker"), ["--concurrency", "--redis", "--shutdown-timeout", "--log-level", "--log-format", "--graphs"])
    .description("run background tasks only (no HTTP): from the SQLite store on this machine, or from Redis with --redis")
    .action(async (_flags: unknown, command: Command) => {
      const { config } = await loadProject(command);
      const { runTaskWorker } = await import("../../process/task-worker.js");
      await runTaskWorker(config);
    });
}
