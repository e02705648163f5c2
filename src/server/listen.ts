import { once } from "node:events";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { GraphRegistry } from "../definition/registry.js";
import { Errors, KaygraphError } from "../errors.js";
import { createApp } from "./app.js";
import type { ServerState } from "./context.js";
import { createLogger } from "./logger.js";

/** A listening server. */
export interface ServerHandle {
  readonly server: http.Server;
  readonly port: number;
  readonly url: string;
  readonly logger: Logger;
  readonly state: ServerState;
  /** Number of graph versions served. */
  readonly registrySize: number;
  /**
   * Graceful stop: `/ready` answers 503, no new connections, in-flight requests finish until the deadline,
   * then remaining connections are closed. Resolves when the server is closed.
   */
  close(deadlineMs?: number): Promise<void>;
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
  const app = createApp(config, registry, { logger, state, debug: options.debug });
  const server = http.createServer(app);
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
  const close = (deadlineMs = config.server.shutdownTimeout * 1000): Promise<void> => {
    closing ??= drain(server, state, deadlineMs);
    return closing;
  };
  return { server, port, url: `http://${shownHost}:${port}`, logger, state, registrySize: registry.size, close };
}

/**
 * Graceful drain without dropping a request:
 * 1. `/ready` answers 503 and every response carries `Connection: close` (see app.ts), so a connection that
 *    serves a request during the drain is closed right after its response, never under a client reusing it;
 * 2. stop accepting connections (at the net level: http's own close() also closes idle sockets);
 * 3. close connections that stay idle (clients that sent nothing since the drain began), and at the deadline
 *    close everything that is left.
 */
async function drain(server: http.Server, state: ServerState, deadlineMs: number): Promise<void> {
  state.phase = "draining";
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  const sweep = setInterval(() => server.closeIdleConnections(), 250);
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
  await Promise.race([closed, deadline]);
  clearInterval(sweep);
  server.closeAllConnections();
  await closed;
}
