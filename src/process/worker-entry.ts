/**
 * Entry of a worker process forked by the {@link Supervisor}: loads the project's settings and graphs,
 * listens on the shared port, reports ready, and drains on the primary's message or a signal.
 */
import { reportError } from "../error-report.js";
import { applyDotenv, loadConfig } from "../config/load.js";
import { loadGraphs } from "../definition/load.js";
import { KaygraphError } from "../errors.js";
import { startServer, type ServerHandle } from "../server/listen.js";
import { WORKER_ENV, type PrimaryMessage, type WorkerMessage, type WorkerOptions } from "./messages.js";

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  const options = JSON.parse(process.env[WORKER_ENV] ?? "{}") as WorkerOptions;
  // Reloads are the primary's job; a terminal hangup must not kill a worker.
  process.on("SIGHUP", () => undefined);

  let handle: ServerHandle;
  try {
    const flags = { ...options.load.flags, "--port": String(options.port) };
    const { config, dotenv } = await loadConfig({ ...options.load, flags });
    applyDotenv(dotenv);
    const registry = await loadGraphs(config);
    handle = await startServer(config, registry, { debug: options.debug });
    watchForCrashes(handle);
  } catch (error) {
    let text = "";
    const exitCode = reportError(error, { debug: options.debug, color: false, write: (t) => (text += t) });
    send({ type: "kaygraph:load-failed", message: text.trimEnd(), exitCode: KaygraphError.is(error) ? exitCode : 1 });
    process.exit(exitCode);
  }

  send({ type: "kaygraph:ready", port: handle.port, graphs: handle.registrySize });
  let draining = false;
  const drain = (deadlineMs?: number) => {
    if (draining) return;
    draining = true;
    // Once idle clients are sent away, new requests reach other workers: the primary may call a reload done.
    void handle.close(deadlineMs, () => send({ type: "kaygraph:draining" })).then(() => {
      handle.logger.flush();
      process.exit(0);
    });
  };
  process.on("message", (message: PrimaryMessage) => {
    if (message?.type === "kaygraph:drain") drain(message.deadlineMs);
  });
  process.on("SIGTERM", () => drain());
  process.on("SIGINT", () => drain());
  // The primary is gone (killed): nothing will route connections here any more.
  process.on("disconnect", () => drain());
}

/** A crash in user code: one fatal line with context, tell the primary, exit (the primary replaces us). */
function watchForCrashes(handle: ServerHandle): void {
  const die = (kind: string) => (error: unknown) => {
    const message = `${kind} in worker pid ${process.pid}: ${error instanceof Error ? error.message : String(error)}`;
    handle.logger.fatal({ err: error, kind }, message);
    handle.logger.flush();
    send({ type: "kaygraph:fatal", message });
    process.exit(1);
  };
  process.on("uncaughtException", die("uncaughtException"));
  process.on("unhandledRejection", die("unhandledRejection"));
}

void main();
