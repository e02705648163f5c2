import type { IncomingMessage } from "node:http";
import type { Identity } from "../../definition/define.js";
import type { LoadedGraph } from "../../definition/registry.js";

/** A client message the limit hook is asked about. */
export type LimitedMessage = { type: "run"; id: string; graph: LoadedGraph } | { type: "subscribe"; id: string; taskId: string };

/**
 * How auth and rate limits plug into the WebSocket server (the HTTP middleware's counterparts). Every hook
 * is optional; without hooks every caller is anonymous and only the built-in per-connection limits apply.
 *
 * @example
 * attachWebSockets(server, ctx, {
 *   authenticate: async (req) => toIdentity(await verifier.verify(tokenFromUpgrade(req)?.token)), // throws AuthError (status 401)
 *   onMessageLimit: async (identity, ip) => (await limiter.consume(keyOf(identity, ip), specOf(identity))).allowed,
 * });
 */
export interface WebSocketHooks {
  /**
   * Runs on every upgrade to `/ws/{client_id}` before the handshake. Resolves the caller's identity (it
   * reaches graphs as `ctx.user`, scopes `subscribe` to the caller's own tasks with auth on, and keys the
   * per-client connection cap), or undefined for an anonymous caller.
   * To refuse, throw: an error with a numeric `status` (401, 403, 429, 503…) is answered with that HTTP
   * status and the API's JSON error body before any handshake — `error_code` from its `code` or `errorCode`
   * (else derived from the status), headers from its `headers` object and/or `wwwAuthenticate` string
   * (so `HttpError` and `AuthError` both work as they are). Any other error is a 500, logged.
   */
  authenticate?(req: IncomingMessage): Promise<Identity | undefined>;
  /**
   * Runs before each `run` and `subscribe` message is acted on. Resolve true to let it through, false to
   * refuse it with a `RATE_LIMITED` error message (the socket stays open, the message is dropped).
   * Throwing an error with `status` refuses it with that status's code (e.g. 503 → `UNAVAILABLE`), and a
   * `headers["Retry-After"]` becomes `details.retry_after`. `ping` and `cancel` are never limited here;
   * floods of any message are handled by the built-in per-connection limit (close 1008).
   */
  onMessageLimit?(identity: Identity | undefined, ip: string, message: LimitedMessage): Promise<boolean>;
  /** The caller's address passed to `onMessageLimit`; default the socket's remote address. */
  clientIp?(req: IncomingMessage): string;
}

/** Who is on the other end of one socket. */
export interface ConnectionInfo {
  clientId: string;
  identity: Identity | undefined;
  ip: string;
  /** The upgrade request's id (X-Request-ID if valid, else new): in logs of this socket. */
  requestId: string;
}
