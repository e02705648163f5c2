import { traceReload } from "../reload-trace.js";
import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import { Errors, KaygraphError } from "../errors.js";
import { createApp } from "./app.js";
import { ConnectionTracker } from "./connections.js";
import type { ServerState } from "./context.js";
import { createLogger } from "./logger.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { createGuard, type Guard } from "./guard.js";
import { logStoreHealth, watchLimiter } from "./store-watch.js";
import { abortRunOf, answerShuttingDown, streamEndOf } from "./run-abort.js";
import { webSocketSecurity, type ProxyTrust } from "./ws-security.js";
import { createTaskExecutor } from "./task-executor.js";
import { reloadRunService, startRunService } from "../runs/start.js";
import type { RunObserver } from "../runs/service.js";
import { meterObserver } from "./run-metering.js";
import { traceObserver } from "../tracing/observer.js";
import { startTracing, stopTracing } from "../tracing/sdk.js";
import { attachWebSockets, type WebSocketHooks, type WebSocketServerHandle } from "./ws/index.js";
import { StoreHealth, TaskRunner, openWatchedTaskStore, type TaskStore } from "../tasks/index.js";
import { hasWebhooks, startWebhookDeliverer } from "../webhooks/index.js";
import { publicTask } from "./event-flow.js";
import { handoverListener, type HandoverTarget } from "./handover.js";

/** A listening server. */
export interface ServerHandle {
  readonly server: http.Server;
  readonly port: number;
  readonly url: string;
  readonly logger: Logger;
  readonly state: ServerState;
  /** Number of graph versions served. */
  readonly registrySize: number;
  /** The app's metrics (the cluster primary collects them from every worker). */
  readonly metrics: Metrics;
  /** `WS /ws/{client_id}`: open sockets; drained (close 1001) by `close`. */
  readonly webSockets: WebSocketServerHandle;
  /**
   * Graceful stop: `/ready` answers 503, no new connections, in-flight requests finish until the deadline,
   * then remaining connections are closed. Resolves when the server is closed; `onStarted` runs once idle
   * keep-alive clients have been sent away (new requests then reach other workers). A keep-alive socket is
   * closed by the server once unused for `idleCloseMs` (default 250 ms); a longer wait makes it rarer that a
   * client sends a request just as its idle socket closes.
   *
   * With `handover` (a replacement serves the shared port already), no socket is closed early: every request
   * arriving from now on is passed on to the replacement (see {@link handoverListener}) and answered with
   * `Connection: close`, idle sockets close at the keep-alive timeout the clients were told, and `onStarted`
   * runs at once.
   */
  close(deadlineMs?: number, onStarted?: () => void, idleCloseMs?: number, handover?: HandoverTarget): Promise<void>;
  /**
   * An in-place reload (`kaygraph dev`): serves `registry` — the graphs loaded again in this process under
   * `generation` — from the next request on, through a new app on the same port, stores, guard, metrics and
   * run threads (which load the new generation first). Runs, streams and WebSocket operations under way finish
   * on the code they started with. False, with nothing changed, when the change needs a new process (the
   * graphs now need run threads or webhook delivery that this process did not start); a thread that cannot
   * load the graphs is the error thrown, again with nothing changed.
   */
  swap(registry: GraphRegistry, generation: number): Promise<boolean>;
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  logger?: Logger;
  debug?: boolean;
  /**
   * The task store: by default opened from the settings (SQLite, or Redis with `redis.url`) and closed with
   * the server; `false` serves no background tasks.
   */
  tasks?: TaskStore | false;
  /** Run background tasks in this process too (default true). */
  runTasks?: boolean;
  /**
   * This process joins a service whose stores were opened already (a replacement or later cluster worker):
   * the SQLite file is never created here, and a store that cannot be opened makes the server start degraded
   * (`/ready` and task routes 503, opening retried every second) instead of failing to start.
   */
  joinStores?: boolean;
  /** Auth and rate-limit hooks of `WS /ws/{client_id}` (see WebSocketHooks). */
  webSockets?: WebSocketHooks;
  /** More run observers, after the metrics (a cluster worker reports run starts to its primary's watchdog). */
  observers?: readonly RunObserver[];
  /**
   * How long an unused keep-alive socket stays open; clients are told (`Keep-Alive: timeout=…`) and stop
   * reusing it before. Default 65 s, longer than common proxies' idle timeout, so a proxy never reuses a
   * socket we just closed; `dev` uses 5 s, so a replaced worker's idle sockets are gone soon after a reload.
   */
  keepAliveTimeoutMs?: number;
}

/**
 * Creates the app and listens on `config.server.host`:`port` (0 = a free port). Under node:cluster the
 * primary owns the socket and this worker shares it. The registry may still be loading (a promise): the
 * stores open meanwhile, and should it fail, its error is the one thrown.
 *
 * @example
 * const handle = await startServer(config, registry); console.log(handle.url); await handle.close();
 */
export async function startServer(config: ResolvedConfig, loading: GraphRegistry | Promise<GraphRegistry>, options: StartServerOptions = {}): Promise<ServerHandle> {
  const logger = options.logger ?? createLogger(config.log);
  const loaded = Promise.resolve(loading);
  // Both are handled where they are awaited (below); until then a failure must not count as unhandled.
  loaded.catch(() => undefined);
  await startTracing(process.env, logger);
  const state: ServerState = { phase: "starting" };
  const metrics = createMetrics();
  // Run threads load the graphs while the guard and the store open; nothing listens before they are warm.
  const starting = loaded.then((registry) => startRunService(config, registry, { debug: options.debug, logger, observers: [meterObserver(metrics), traceObserver, ...(options.observers ?? [])] }));
  starting.catch(() => undefined);
  // A store that cannot open, while the graphs failed to load: the graphs' error is the one to fix first.
  const abandon = async (): Promise<void> => {
    await (await starting.catch(() => undefined))?.close();
    await loaded;
  };
  // Both stores are watched: /ready answers 503 while one is down, each change is logged once.
  const health = new StoreHealth(logStoreHealth(logger));
  const guard = watchGuard(
    await createGuard(config, logger).catch(async (error: unknown) => {
      await abandon();
      throw error;
    }),
    health,
  );
  const ownStore = options.tasks === undefined;
  const store =
    options.tasks === false
      ? undefined
      : (options.tasks ??
        (await openTaskStore(config, logger, health, options.joinStores ? "join" : "create").catch(async (error: unknown) => {
          await Promise.all([abandon(), guard.close()]);
          throw error;
        })));
  traceReload("stores open");
  let runs = await starting.catch(async (error: unknown) => {
    if (ownStore) await store?.close();
    await guard.close();
    throw error;
  });
  traceReload("threads ready");
  let registry = await loaded;
  const startedAt = Date.now();
  const appFor = (graphs: GraphRegistry, service: typeof runs) => createApp(config, graphs, { logger, state, debug: options.debug, metrics, tasks: store, health, guard, runs: service, startedAt });
  const app = appFor(registry, runs);
  // During a handover drain, requests go to the replacement instead of the app (see handover.ts).
  let listener: http.RequestListener = app;
  const server = http.createServer((req, res) => listener(req, res));
  const tracker = new ConnectionTracker(server);
  // An upgraded socket is no longer HTTP: the WebSocket drain closes it with 1001, not the keep-alive sweep.
  server.on("upgrade", (req: http.IncomingMessage) => tracker.release(req.socket));
  // WebSockets see the client address exactly as `req.ip` does: the app's own compiled trust-proxy function.
  const webSockets = attachWebSockets(server, app.locals.kaygraph, options.webSockets ?? webSocketSecurity(config, guard, app.get("trust proxy fn") as ProxyTrust));
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  server.headersTimeout = Math.max(server.keepAliveTimeout + 1_000, 60_000);
  server.listen(config.server.port, config.server.host);
  try {
    await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error as Error))]);
  } catch (error) {
    webSockets.close();
    await runs.close();
    if (ownStore) await store?.close();
    await guard.close();
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === "EADDRINUSE" ? "Another process uses that port: stop it or pass --port <other> (0 = any free port)." : undefined;
    throw new KaygraphError(Errors.ServerListen, { message: `Cannot listen on ${config.server.host}:${config.server.port}: ${(error as Error).message}`, hint, cause: error });
  }
  const port = (server.address() as AddressInfo).port;
  let executeTask = createTaskExecutor(runs);
  const runner =
    // tasks.concurrency 0: an API-only server (tasks run in `kaygraph worker` processes elsewhere).
    store && options.runTasks !== false && config.tasks.concurrency > 0
      ? new TaskRunner(store, {
          concurrency: config.tasks.concurrency,
          leaseMs: config.tasks.leaseMs,
          pruneEveryMs: config.tasks.pruneIntervalMs,
          execute: (task, io) => executeTask(task, io),
          onError: (error) => logger.warn({ err: error }, "task runner"),
        })
      : undefined;
  runner?.start();
  // Webhooks are delivered by the processes that run tasks (never by an API-only server).
  const graphsNow = { find: (name: string, version?: number) => registry.find(name, version), list: () => registry.list() };
  const deliverer = runner && store ? startWebhookDeliverer(config, graphsNow, store, { logger, metrics: metrics.registry, publicTask: (task) => publicTask(task, options.debug ?? false) }) : undefined;
  const shownHost = config.server.host === "0.0.0.0" || config.server.host === "::" ? "localhost" : config.server.host;
  state.phase = "ready";

  let closing: Promise<void> | undefined;
  const close = (deadlineMs = config.server.shutdownTimeout * 1000, onStarted: () => void = () => undefined, idleCloseMs = IDLE_CLOSE_MS, handover?: HandoverTarget): Promise<void> => {
    if (handover && !closing) listener = handoverListener(handover);
    // HTTP and tasks drain together: unfinished tasks are handed back to the store at the deadline.
    closing ??= Promise.all([drain(server, tracker, state, deadlineMs, onStarted, handover ? { idleCloseMs: server.keepAliveTimeout + 1_000, handover: true } : { idleCloseMs, handover: false }), webSockets.drain(deadlineMs), runner?.stop({ deadlineMs })]).then(async () => {
      await deliverer?.stop();
      await runs.close();
      if (ownStore) await store?.close();
      await guard.close();
      await stopTracing();
    });
    return closing;
  };
  const swap = async (next: GraphRegistry, generation: number): Promise<boolean> => {
    if (closing) return false;
    // Webhook delivery starts with the server: graphs that gain (or lose) the only webhooks need a new process.
    if (runner && store && hasWebhooks(config, next) !== (deliverer !== undefined)) return false;
    const nextRuns = await reloadRunService(config, runs, next, generation);
    if (nextRuns === undefined || closing) return false;
    const nextApp = appFor(next, nextRuns);
    runs = nextRuns;
    registry = next;
    executeTask = createTaskExecutor(nextRuns);
    listener = nextApp;
    webSockets.useContext(nextApp.locals.kaygraph);
    return true;
  };
  return {
    server,
    port,
    url: `http://${shownHost}:${port}`,
    logger,
    state,
    get registrySize() {
      return registry.size;
    },
    metrics,
    webSockets,
    close,
    swap,
  };
}

/** The guard with its rate-limit store watched (see watchLimiter). */
function watchGuard(guard: Guard, health: StoreHealth): Guard {
  if (!guard.limiter) return guard;
  const watched = watchLimiter(guard.limiter, health);
  return {
    ...guard,
    limiter: watched.limiter,
    close: async () => {
      watched.stop();
      await guard.close();
    },
  };
}

/**
 * Opens the task store of the settings under watch. The service's first open (`create`) fails as a clear
 * startup error; a joining process (`join`) never creates the SQLite file and starts degraded instead.
 */
async function openTaskStore(config: ResolvedConfig, logger: Logger, health: StoreHealth, mode: "create" | "join"): Promise<TaskStore> {
  try {
    return await openWatchedTaskStore(config, { onError: (error) => logger.warn({ err: error }, "task store"), health, mode });
  } catch (error) {
    throw new KaygraphError(Errors.StoreUnavailable, {
      message: `Cannot open the task store (${config.redis.url ? "Redis" : config.tasks.database}): ${(error as Error).message}`,
      hint: config.redis.url ? "Check that Redis answers at the --redis / KAYGRAPH_REDIS_URL address." : "Check that the folder of tasks.database is writable.",
      cause: error,
    });
  }
}

/** How often a drain looks at keep-alive sockets. */
const SWEEP_MS = 25;
/** A keep-alive socket unused this long during a drain is closed (a client in a request loop never is): dev's wait. */
const IDLE_CLOSE_MS = 250;
/**
 * At the drain deadline, how long aborted runs get to send their 503 and streams their terminal event before
 * what is still unanswered is answered 503 here, and every connection closes.
 */
const ABORT_GRACE_MS = 1_000;

/**
 * Graceful drain: `/ready` answers 503, the server stops accepting connections (at the net level: http's own
 * close() would also close idle sockets at once, racing clients about to reuse them), responses carry
 * `Connection: close`, and keep-alive sockets unused for a while are closed. `onStarted` runs once no idle
 * socket is left (busy ones close after their response), so new requests reach other workers from then on.
 * At the deadline everything left closes. In a handover, requests are passed on (see handover.ts) and an idle
 * socket is closed only once its client stopped reusing it: Node closes it at the keep-alive timeout the
 * client was told; the sweep (`idleCloseMs` past that) catches sockets that never carried a request.
 */
function drain(server: http.Server, tracker: ConnectionTracker, state: ServerState, deadlineMs: number, onStarted: () => void, { idleCloseMs, handover }: { idleCloseMs: number; handover: boolean }): Promise<void> {
  state.phase = "draining";
  tracker.beginDrain();
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  // A handover passes on what arrives from now on: new requests reach the replacement already.
  let started = handover;
  if (handover) setImmediate(onStarted);
  const began = Date.now();
  const sweep = setInterval(() => {
    const idleLeft = tracker.sweep(idleCloseMs);
    // One more sweep after the last idle socket closed, so clients have seen the close before anyone is told.
    if (!started && (idleLeft === 0 || Date.now() - began > idleCloseMs + 2 * SWEEP_MS)) {
      started = true;
      setTimeout(onStarted, SWEEP_MS).unref();
    }
  }, SWEEP_MS);
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
  return Promise.race([closed, deadline]).then(async () => {
    clearInterval(sweep);
    if (!started) onStarted();
    // Runs still going at the deadline are aborted and answered 503 (retry elsewhere), streams end with a
    // terminal error event: nothing is cut off silently.
    await tracker.endAtDeadline({ abortRun: abortRunOf, endStream: streamEndOf, answer: answerShuttingDown }, ABORT_GRACE_MS);
    server.closeAllConnections();
    await closed;
  });
}
