/**
 * `WS /ws/{client_id}` (DESIGN.md section 5) on the ws library with `noServer` upgrade handling: the path,
 * readiness, auth hook and connection cap are checked before or right at the handshake, then each socket is
 * a {@link WsConnection}.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { AppContext } from "../context.js";
import { HttpError, refusalOf, type ErrorCode } from "../http-error.js";
import { redactUrl } from "../secret-query.js";
import { CloseCode, WsConnection, type ConnectionEnv } from "./connection.js";
import { wsMetrics } from "./metrics.js";
import type { ConnectionInfo, WebSocketHooks } from "./types.js";

export type { ConnectionInfo, LimitedMessage, WebSocketHooks } from "./types.js";
export { CloseCode } from "./connection.js";

/** The WebSocket side of a server. */
export interface WebSocketServerHandle {
  /** Open connections. */
  readonly size: number;
  /**
   * Graceful shutdown: upgrades are refused (503), idle sockets close with 1001 at once, busy ones after
   * their runs end; at the deadline every socket left closes with 1001 (terminated a second later if the
   * peer does not answer). Resolves once every socket is closed.
   */
  drain(deadlineMs: number): Promise<void>;
  /** Terminates every socket and stops listening for upgrades. */
  close(): void;
  /** Serves new messages with `ctx` (an in-place reload's app context); operations under way keep theirs. */
  useContext(ctx: AppContext): void;
}

/** A client id: 1–128 of `A-Z a-z 0-9 . _ : -` (as a request id). */
const WS_PATH = /^\/ws\/([A-Za-z0-9._:-]{1,128})$/;
const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** After the shutdown deadline, how long a peer gets to answer the close frame before its socket is dropped. */
const FORCE_CLOSE_MS = 1_000;

/**
 * Serves `/ws/{client_id}` on `server`: answers upgrades (404 for another path, 503 while starting or
 * draining, the auth hook's refusal), caps connections per client id, and pings every socket each
 * `ws.heartbeatMs`. Settings come from `ctx.config.ws`; auth and limits plug in through `hooks`.
 *
 * @example
 * const sockets = attachWebSockets(server, app.locals.kaygraph, { authenticate });
 * await sockets.drain(30_000); // on shutdown
 */
export function attachWebSockets(server: http.Server, ctx: AppContext, hooks: WebSocketHooks = {}): WebSocketServerHandle {
  const settings = ctx.config.ws;
  // Compression stays off: per-message deflate costs memory per socket and invites zip bombs.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: settings.maxMessageBytes,
    perMessageDeflate: false,
    clientTracking: false,
    // A browser that sent its token as `Sec-WebSocket-Protocol: bearer, <token>` needs "bearer" echoed back.
    handleProtocols: (protocols) => (protocols.has("bearer") ? "bearer" : false),
  });
  const metrics = wsMetrics(ctx.metrics.registry);
  const connections = new Set<WsConnection>();
  const perClient = new Map<string, number>();
  const requestIds = new WeakMap<http.IncomingMessage, string>();
  let draining = false;
  let onEmpty: (() => void) | undefined;

  const env: ConnectionEnv = {
    ctx,
    hooks,
    metrics,
    onClosed(connection) {
      if (!connections.delete(connection)) return;
      metrics.connections.dec();
      const key = capKey(connection.info);
      const left = (perClient.get(key) ?? 1) - 1;
      if (left > 0) perClient.set(key, left);
      else perClient.delete(key);
      if (connections.size === 0) onEmpty?.();
    },
  };

  const buffered = (): number => {
    let sum = 0;
    for (const connection of connections) sum += connection.buffered;
    return sum;
  };
  metrics.buffered.add(buffered);

  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, settings.heartbeatMs);
  heartbeat.unref();

  wss.on("headers", (headers, req) => {
    const id = requestIds.get(req);
    if (id !== undefined) headers.push(`X-Request-ID: ${id}`);
  });

  const accept = (ws: WebSocket, info: ConnectionInfo): void => {
    const key = capKey(info);
    const open = perClient.get(key) ?? 0;
    if (open >= settings.maxConnectionsPerClient) {
      // Closed after the handshake, not refused before it: a browser sees a close code and reason, never a status.
      ws.on("error", () => undefined);
      metrics.closes.inc({ code: String(CloseCode.policy) });
      ws.close(CloseCode.policy, `too many connections for this client id (max ${settings.maxConnectionsPerClient})`);
      return;
    }
    perClient.set(key, open + 1);
    const connection = new WsConnection(ws, info, env);
    connections.add(connection);
    closeAtTokenExpiry(ws, connection, info);
    metrics.connections.inc();
    connection.log.debug("websocket connected");
    if (draining) connection.drain();
  };

  const upgrade = async (req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const started = performance.now();
    // Errors on a socket not yet handed to ws (a client gone mid-handshake) need nothing but its end.
    const ignore = (): void => undefined;
    socket.on("error", ignore);
    const header = req.headers["x-request-id"];
    const requestId = typeof header === "string" && VALID_REQUEST_ID.test(header) ? header : randomUUID();
    const path = (req.url ?? "/").split("?")[0]!;
    const clientId = WS_PATH.exec(path)?.[1];
    const log = (status: number, code?: ErrorCode): void => logUpgrade(ctx, req, { requestId, clientId, status, code, durationMs: performance.now() - started });
    const refuse = (error: HttpError): void => {
      log(error.status, error.code);
      refuseUpgrade(socket, requestId, error);
    };
    if (clientId === undefined) {
      refuse(new HttpError(404, "NOT_FOUND", `No WebSocket endpoint at ${path.slice(0, 200)}; connect to /ws/{client_id} (client_id: 1–128 characters of A-Z a-z 0-9 . _ : -).`));
      return;
    }
    if (draining || ctx.state.phase !== "ready") {
      refuse(new HttpError(503, "UNAVAILABLE", `The server is ${draining ? "draining" : ctx.state.phase}; reconnect shortly.`, { headers: { "Retry-After": "1" } }));
      return;
    }
    let identity;
    try {
      identity = await hooks.authenticate?.(req);
    } catch (error) {
      refuse(refusalAnswer(error, ctx, requestId));
      return;
    }
    if (socket.destroyed) return;
    if (draining) {
      refuse(new HttpError(503, "UNAVAILABLE", "The server is draining; reconnect shortly.", { headers: { "Retry-After": "1" } }));
      return;
    }
    const ip = hooks.clientIp?.(req) ?? req.socket.remoteAddress ?? "";
    requestIds.set(req, requestId);
    wss.handleUpgrade(req, socket, head, (ws) => {
      socket.off("error", ignore);
      log(101);
      accept(ws, { clientId, identity, ip, requestId });
    });
  };
  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => void upgrade(req, socket, head);
  server.on("upgrade", onUpgrade);

  return {
    get size() {
      return connections.size;
    },
    drain(deadlineMs) {
      draining = true;
      for (const connection of connections) connection.drain();
      return new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(deadline);
          clearTimeout(force);
          clearInterval(heartbeat);
          metrics.buffered.delete(buffered);
          resolve();
        };
        let force: NodeJS.Timeout | undefined;
        const deadline = setTimeout(() => {
          for (const connection of connections) connection.close(CloseCode.goingAway, "server shutting down");
          force = setTimeout(() => {
            for (const connection of connections) connection.terminate();
          }, FORCE_CLOSE_MS);
        }, deadlineMs);
        if (connections.size === 0) done();
        else onEmpty = done;
      });
    },
    useContext(next) {
      env.ctx = next;
    },
    close() {
      draining = true;
      clearInterval(heartbeat);
      metrics.buffered.delete(buffered);
      server.off("upgrade", onUpgrade);
      for (const connection of connections) connection.terminate();
    },
  };
}

/** Application close code for an expired token (4000–4999 are the application's; 4401 mirrors HTTP 401). */
export const TOKEN_EXPIRED = 4401;

/** A socket authenticated with a token closes with 4401 when the token expires. */
function closeAtTokenExpiry(ws: WebSocket, connection: WsConnection, info: ConnectionInfo): void {
  const exp = info.identity?.claims.exp;
  if (typeof exp !== "number") return;
  let timer: NodeJS.Timeout | undefined;
  // Re-armed until the wall clock says expired: a timer may fire a little before Date.now() reaches `exp`, and
  // setTimeout takes at most ~24.8 days (a token living longer is re-checked then).
  const arm = (): void => {
    timer = setTimeout(() => {
      if (exp * 1000 <= Date.now()) connection.close(TOKEN_EXPIRED, "token expired");
      else arm();
    }, Math.max(0, Math.min(exp * 1000 - Date.now(), 2 ** 31 - 1)));
    timer.unref();
  };
  arm();
  ws.once("close", () => clearTimeout(timer));
}

/** The per-client-id cap is per subject with auth on, so nobody can use up someone else's client id. */
function capKey(info: ConnectionInfo): string {
  return `${info.identity?.sub ?? ""}\n${info.clientId}`;
}

/** The HTTP answer to an `authenticate` hook's refusal (see {@link WebSocketHooks.authenticate}). */
function refusalAnswer(error: unknown, ctx: AppContext, requestId: string): HttpError {
  const refusal = refusalOf(error);
  if (refusal) return refusal;
  ctx.logger.error({ err: error, request_id: requestId }, "websocket authenticate hook failed");
  return new HttpError(500, "INTERNAL_ERROR", "Internal server error; the server log has the details under this request id.");
}

/**
 * The one log line of a WebSocket upgrade, accepted (101, info) or refused (warn for 4xx, error for 5xx), with
 * the request id and the URL with secret query parameters redacted, as the HTTP request log writes them.
 */
function logUpgrade(ctx: AppContext, req: http.IncomingMessage, entry: { requestId: string; clientId: string | undefined; status: number; code?: ErrorCode; durationMs: number }): void {
  const level = entry.status >= 500 ? "error" : entry.status >= 400 ? "warn" : "info";
  if (!ctx.logger.isLevelEnabled(level)) return;
  const url = redactUrl(req.url ?? "/");
  ctx.logger[level](
    {
      request_id: entry.requestId,
      method: "GET",
      url,
      route: "/ws/:client_id",
      status: entry.status,
      websocket: entry.status === 101 ? "accepted" : "refused",
      ...(entry.clientId !== undefined && { client_id: entry.clientId }),
      ...(entry.code !== undefined && { error_code: entry.code }),
      duration_ms: Math.round(entry.durationMs * 1000) / 1000,
    },
    `WS ${url} ${entry.status === 101 ? "101 accepted" : `${entry.status} refused`}`,
  );
}

/** Answers an upgrade with an HTTP error (the API's JSON body) instead of a handshake, and closes. */
function refuseUpgrade(socket: Duplex, requestId: string, error: HttpError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ error: error.message, error_code: error.code, request_id: requestId });
  const headers: Record<string, string> = {
    ...error.headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": String(Buffer.byteLength(body)),
    "X-Request-ID": requestId,
    Connection: "close",
  };
  // Header values from hooks must not split the response.
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v.replace(/[\r\n]+/g, " ")}`);
  socket.end(`HTTP/1.1 ${error.status} ${http.STATUS_CODES[error.status] ?? ""}\r\n${lines.join("\r\n")}\r\n\r\n${body}`);
}
