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
  /**
   * Graceful stop: `/ready` answers 503, no new connections, in-flight requests finish until the deadline,
   * then remaining connections are closed. Resolves when the server is closed; `onStarted` runs once idle
   * keep-alive clients have been sent away (new requests then reach other workers).
   */
  close(deadlineMs?: number, onStarted?: () => void): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartServerOptions {
  logger?: Logger;
  debug?: boolean;
}

/**
 * Creates the app and listens on `config.server.host`:`port` (0 = a free port). Under node:cluster the
 * primary owns the socket and this worker shares it.
 *
 * @example
 * const handle = await startServer(config, registry); console.log(handle.url); await handle.close();
 */
export async function startServer(config: ResolvedConfig, registry: GraphRegistry, options: StartServerOptions = {}): Promise<ServerHandle> {
  const logger = options.logger ?? createLogger(config.log);
  const state: ServerState = { phase: "starting" };
  const metrics = createMetrics();
  const app = createApp(config, registry, { logger, state, debug: options.debug, metrics });
  const server = http.createServer(app);
  const tracker = new ConnectionTracker(server);
  // Keep-alive longer than common proxies' idle timeout, so a proxy never reuses a socket we just closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.listen(config.server.port, config.server.host);
  try {
    await Promise.race([once(server, "listening"), once(server, "error").then(([error]) => Promise.reject(error as Error))]);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === "EADDRINUSE" ? "Another process uses that port: stop it or pass --port <other> (0 = any free port)." : undefined;
    throw new KaygraphError(Errors.ServerListen, { message: `Cannot listen on ${config.server.host}:${config.server.port}: ${(error as Error).message}`, hint, cause: error });
  }
  const port = (server.address() as AddressInfo).port;
  const shownHost = config.server.host === "0.0.0.0" || config.server.host === "::" ? "localhost" : config.server.host;
  state.phase = "ready";

  let closing: Promise<void> | undefined;
  const close = (deadlineMs = config.server.shutdownTimeout * 1000, onStarted: () => void = () => undefined): Promise<void> => {
    closing ??= drain(server, tracker, state, deadlineMs, onStarted);
    return closing;
  };
  return { server, port, url: `http://${shownHost}:${port}`, logger, state, registrySize: registry.size, metrics, close };
}

/** How often a drain closes keep-alive sockets that saw no request since the last sweep. */
const SWEEP_MS = 25;

/**
 * Graceful drain: `/ready` answers 503, the server stops accepting connections (at the net level: http's own
 * close() would also close idle sockets at once, racing clients about to reuse them), responses carry
 * `Connection: close`, and keep-alive sockets that stay unused for a sweep interval are closed. `onStarted`
 * runs once idle clients have been sent away. At the deadline everything left closes.
 */
function drain(server: http.Server, tracker: ConnectionTracker, state: ServerState, deadlineMs: number, onStarted: () => void): Promise<void> {
  state.phase = "draining";
  tracker.beginDrain();
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  // Report "started" one sweep after idle sockets were closed, so clients have seen the close before anyone
  // is told that new requests reach new code.
  let sweeps = 0;
  const sweep = setInterval(() => {
    tracker.sweep();
    if (++sweeps === 2) onStarted();
  }, SWEEP_MS);
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
  return Promise.race([closed, deadline]).then(async () => {
    clearInterval(sweep);
    if (sweeps < 2) onStarted();
    server.closeAllConnections();
    await closed;
  });
}
