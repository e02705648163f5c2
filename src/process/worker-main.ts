/**
 * A worker process forked by the {@link Supervisor} (entered through worker-entry.ts): loads the project's settings and graphs,
 * listens on the shared port, reports ready, and drains on the primary's message or a signal. A standby
 * worker (dev) loads everything it can first and waits for the word to load the project.
 */
import { traceReload } from "../reload-trace.js";
import { generate } from "../codegen/generate.js";
import { applyDotenv, loadConfig } from "../config/load.js";
import { generationsSupported, importedFiles, registerTypeScript } from "../config/import-module.js";
import type { ResolvedConfig } from "../config/schema.js";
import { loadGraphs } from "../definition/load.js";
import type { GraphRegistry } from "../definition/registry.js";
import { reportError } from "../error-report.js";
import { KaygraphError } from "../errors.js";
import { threadShape } from "../runs/start.js";
import { startServer, type ServerHandle } from "../server/listen.js";
import { runReporter, startHeartbeat } from "./heartbeat.js";
import { RunRecordWriter } from "./run-record.js";
import { resolveWorkers } from "./workers.js";
import { rehearseLoad } from "./rehearsal.js";
import { WORKER_ENV, type PrimaryMessage, type WorkerMessage, type WorkerOptions, type WorkerSettings } from "./messages.js";

/** How long a drained worker stays to answer the primary's last connection hand-offs before it exits. */
const EXIT_GRACE_MS = 250;

const send = (message: WorkerMessage): void => {
  process.send?.(message);
};

async function main(): Promise<void> {
  let options = JSON.parse(process.env[WORKER_ENV] ?? "{}") as WorkerOptions;
  // Reloads are the primary's job; a terminal hangup must not kill a worker.
  process.on("SIGHUP", () => undefined);
  let draining = false;
  let handle: ServerHandle | undefined;
  let listenHost = "127.0.0.1";
  const drain = (deadlineMs?: number, handover = false) => {
    if (draining) return;
    draining = true;
    if (!handle) process.exit(0);
    // Once idle clients are sent away, new requests reach other workers: the primary may call a reload done.
    // A handover: what still arrives here goes to the replacement, through the shared port.
    const target = handover ? { host: listenHost, port: options.port } : undefined;
    void handle.close(deadlineMs, () => (traceReload("draining"), send({ type: "kaygraph:draining" })), options.drainIdleMs, target).then(() => {
      handle?.logger.flush();
      // The primary may have handed us a connection just before it saw our server close; we answer such a
      // hand-off "not accepted" and the primary gives it to another worker — but only while we are alive to
      // answer. Exiting at once would strand that connection in the primary (node:cluster never retries it).
      setTimeout(() => process.exit(0), EXIT_GRACE_MS);
    });
  };
  process.on("SIGTERM", () => drain());
  process.on("SIGINT", () => drain());
  // The primary is gone (killed): nothing will route connections here any more.
  process.on("disconnect", () => drain());

  if (options.standby) {
    const order = new Promise<Extract<PrimaryMessage, { type: "kaygraph:load" }>>((resolve) => {
      const onMessage = (message: PrimaryMessage) => {
        if (message?.type !== "kaygraph:load") return;
        process.off("message", onMessage);
        resolve(message);
      };
      process.on("message", onMessage);
    });
    // Its run threads were started by worker-entry.ts, first: a reload then only loads the graphs into them.
    traceReload("standby start");
    // The order is listened for: the primary may hand us a project now. One that comes before the standby is
    // warm waits for it: a warm load beats an early cold one.
    send({ type: "kaygraph:standby" });
    // kaygraph's package entry (what a graph's `import "kaygraph"` gets) through Node's own loader, before
    // the TypeScript loader's hooks would make each of its modules a round trip to the hooks thread.
    await import("../index.js");
    traceReload("standby index");
    await registerTypeScript();
    traceReload("standby tsx");
    await rehearseLoad();
    traceReload("standby warm");
    send({ type: "kaygraph:standby-warm" });
    const { index, generate } = await order;
    options = { ...options, index, generate, standby: false };
    traceReload("load order");
  }
  process.on("message", (message: PrimaryMessage) => {
    if (message?.type === "kaygraph:drain") traceReload("drain order");
    if (message?.type === "kaygraph:drain") drain(message.deadlineMs, message.handover);
    // The primary collects every ready worker's metrics for /metrics.
    if (message?.type === "kaygraph:metrics-collect" && handle) {
      void handle.metrics.registry.getMetricsAsJSON().then((metrics) => send({ type: "kaygraph:metrics-json", id: message.id, metrics }));
    }
  });

  let loaded: { config: ResolvedConfig; registry: GraphRegistry };
  let settingsModules: string[] = [];
  try {
    const flags = { ...options.load.flags, "--port": String(options.port) };
    const { config, dotenv } = await loadConfig({ ...options.load, flags });
    applyDotenv(dotenv);
    // What the config file imported: a change there is a settings change (a new process), not graph code.
    settingsModules = importedFiles();
    traceReload("config");
    // The stores open while the graphs load (see startServer).
    const loading = loadGraphs(config).then((registry) => (traceReload("graphs"), registry));
    // Run starts feed the primary's watchdog (which names the run of a worker it kills).
    const record = config.server.workerTimeout > 0 && options.runFile !== undefined ? openRunRecord(options.runFile) : undefined;
    const observers = record ? [runReporter(record)] : [];
    handle = await startServer(config, loading, { debug: options.exposeErrors, observers, joinStores: options.joinStores ?? false, ...(options.keepAliveTimeoutMs !== undefined && { keepAliveTimeoutMs: options.keepAliveTimeoutMs }) });
    listenHost = config.server.host;
    traceReload("listening");
    loaded = { config, registry: await loading };
    watchForCrashes(handle);
  } catch (error) {
    let text = "";
    const exitCode = reportError(error, { debug: options.debug, color: false, write: (t) => (text += t) });
    send({ type: "kaygraph:load-failed", message: text.trimEnd(), exitCode: KaygraphError.is(error) ? exitCode : 1, modules: importedFiles() });
    process.exit(exitCode);
  }
  const { server } = loaded.config;
  const settings: WorkerSettings = {
    workers: resolveWorkers(loaded.config.workers),
    shutdownTimeoutMs: server.shutdownTimeout * 1000,
    workerTimeoutMs: server.workerTimeout * 1000,
    maxRequests: server.maxRequests,
    maxRequestsJitter: server.maxRequestsJitter,
    maxMemoryMb: server.maxMemoryMb,
    threads: threadShape(loaded.config, loaded.registry),
  };
  send({ type: "kaygraph:ready", port: handle.port, graphs: handle.registrySize, modules: importedFiles(), settingsModules, settings });
  startHeartbeat(handle.server, { intervalMs: heartbeatInterval(settings.workerTimeoutMs), send });
  const served = handle;
  // Regenerations run one after another: the last one written is the latest graphs'.
  let generating = Promise.resolve();
  const regenerateLater = (registry: GraphRegistry) => {
    if (options.generate) generating = generating.then(() => regenerate(served, loaded.config, registry));
  };
  process.on("message", (message: PrimaryMessage) => {
    if (message?.type !== "kaygraph:swap") return;
    // Draining, or module generations unavailable (kaygraph run from its sources): the primary starts a process.
    if (draining || !generationsSupported()) send({ type: "kaygraph:swap-refused" });
    else void swapGraphs(served, loaded, message.generation, options).then((registry) => registry && regenerateLater(registry));
  });
  regenerateLater(loaded.registry);
  await generating;
}

/**
 * An in-place reload (`kaygraph dev`, the primary's `kaygraph:swap`): loads the graphs again under
 * `generation` and serves them from this process (see ServerHandle.swap), then says how it went — swapped, the
 * load error (the old graphs keep serving), or refused (the change needs a new process).
 */
async function swapGraphs(handle: ServerHandle, loaded: { config: ResolvedConfig; registry: GraphRegistry }, generation: number, options: WorkerOptions): Promise<GraphRegistry | undefined> {
  traceReload("swap order");
  let swapped: boolean;
  let registry: GraphRegistry;
  try {
    registry = await loadGraphs(loaded.config, { generation });
    traceReload("graphs");
    swapped = await handle.swap(registry, generation);
  } catch (error) {
    let text = "";
    reportError(error, { debug: options.debug, color: false, write: (t) => (text += t) });
    send({ type: "kaygraph:swap-failed", message: text.trimEnd(), modules: importedFiles() });
    return undefined;
  }
  if (!swapped) {
    send({ type: "kaygraph:swap-refused" });
    return undefined;
  }
  loaded.registry = registry;
  traceReload("swapped");
  send({ type: "kaygraph:swapped", graphs: registry.size, modules: importedFiles() });
  return registry;
}

/** A quarter of the watchdog timeout, at most 1 s: several beats fit in the timeout even on a loaded machine. */
const heartbeatInterval = (workerTimeoutMs: number) => (workerTimeoutMs > 0 ? Math.max(100, Math.min(1_000, workerTimeoutMs / 4)) : 1_000);

/** Rewrites `.kaygraph/generated` after a (re)load; a failure is logged, never fatal. */
async function regenerate(handle: ServerHandle, config: ResolvedConfig, registry: GraphRegistry): Promise<void> {
  try {
    const { files } = await generate(config, registry);
    const changed = files.filter((f) => f.changed).map((f) => f.name);
    if (changed.length > 0) handle.logger.info({ files: changed }, `generated ${changed.join(", ")}`);
  } catch (error) {
    handle.logger.warn({ err: error }, "code generation failed");
  }
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

/** The run record file, or undefined when it cannot be opened (the watchdog then names no run). */
function openRunRecord(file: string): RunRecordWriter | undefined {
  try {
    return new RunRecordWriter(file);
  } catch {
    return undefined;
  }
}

void main();
