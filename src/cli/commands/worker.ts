import { Command } from "commander";
import { Errors, KaygraphError } from "../../errors.js";
import { loadProject, withSettingFlags } from "../project.js";
import { runUntilStopped } from "../signals.js";

/** `kaygraph worker`: background-task workers only, no HTTP. */
export function workerCommand(): Command {
  return withSettingFlags(new Command("worker"), ["--concurrency", "--redis", "--shutdown-timeout", "--log-level", "--log-format", "--graphs"])
    .description("run background tasks only (no HTTP): from the SQLite store on this machine, or from Redis with --redis")
    .action(async (_flags: unknown, command: Command) => {
      const { config } = await loadProject(command);
      if (config.tasks.concurrency < 1) {
        throw new KaygraphError(Errors.Usage, { message: "kaygraph worker runs tasks: tasks.concurrency must be at least 1 here (0 is for a serve that runs none)." });
      }
      const { startTaskWorker } = await import("../../process/task-worker.js");
      const worker = await startTaskWorker(config);
      await runUntilStopped(worker, { stopping: (signal) => `kaygraph worker: ${signal} received, finishing running tasks (up to ${config.server.shutdownTimeout}s)` });
    });
}
