import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import WebSocket, { type RawData } from "ws";
import type { AppContext } from "../context.js";
import { refusalOf, type ErrorCode } from "../http-error.js";
import type { WsMetrics } from "./metrics.js";
import { startResume, startRun, startSubscription, type Operation, type OperationHost } from "./operations.js";
import { errorMessage, parseClientMessage, type ClientMessage } from "./protocol.js";
import type { ConnectionInfo, LimitedMessage, WebSocketHooks } from "./types.js";

/** What every connection of one server shares. */
export interface ConnectionEnv {
  ctx: AppContext;
  hooks: WebSocketHooks;
  metrics: WsMetrics;
  /** Called once when the socket is closed, whoever closed it. */
  onClosed(connection: WsConnection): void;
}

/** Close codes the server uses (RFC 6455 section 7.4.1). */
export const CloseCode = { goingAway: 1001, policy: 1008, tooBig: 1009, tryAgainLater: 1013 } as const;

/** ws's errors on bad frames, and the close code it sends for each. */
const FRAME_ERROR_CODES: Record<string, number> = { WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009, WS_ERR_INVALID_UTF8: 1007 };

/**
 * One client socket of `/ws/{client_id}`: parses messages, runs and subscribes concurrently (each under the
 * client's message id), and enforces the per-connection limits: message rate (close 1008), buffered bytes
 * of a slow reader (close 1013), liveness (terminated when a ping goes unanswered for a heartbeat).
 */
export class WsConnection implements OperationHost {
  readonly log: Logger;
  private readonly ops = new Map<string, Operation>();
  private runs = 0;
  private alive = true;
  private closing = false;
  private draining = false;
  private corked = false;
  private tokens: number;
  private refilledAt = performance.now();
  private readonly out: { inc(): void };
  private readonly in: { inc(): void };

  /** The app's context now: an in-place reload (`kaygraph dev`) swaps it, and the next operation uses the new graphs. */
  get ctx(): AppContext {
    return this.env.ctx;
  }

  constructor(
    private readonly ws: WebSocket,
    readonly info: ConnectionInfo,
    readonly env: ConnectionEnv,
  ) {
    this.log = env.ctx.logger.child({ ws_client: info.clientId, request_id: info.requestId });
    this.tokens = env.ctx.config.ws.messagesPerSecond;
    this.out = env.metrics.messages.labels("out");
    this.in = env.metrics.messages.labels("in");
    ws.on("message", (data) => this.onMessage(data));
    ws.on("pong", () => (this.alive = true));
    ws.on("error", (error: Error & { code?: string }) => {
      // ws closes the socket itself after a bad frame (1009 too big, 1007 bad UTF-8, 1002 otherwise).
      env.metrics.closes.inc({ code: String(FRAME_ERROR_CODES[error.code ?? ""] ?? 1002) });
      this.log.debug({ err: error }, "websocket frame error");
    });
    ws.on("close", () => this.onClose());
  }

  // #region lifecycle

  /** One heartbeat: a peer that did not answer the previous ping (nor sent anything) is terminated. */
  heartbeat(): void {
    if (!this.alive) {
      this.env.metrics.closes.inc({ code: "1006" });
      this.log.debug("websocket peer did not answer a ping; terminated");
      this.terminate();
      return;
    }
    this.alive = false;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  /** Graceful shutdown: no new work; close with 1001 as soon as no run is in flight (subscriptions resume elsewhere). */
  drain(): void {
    this.draining = true;
    if (this.runs === 0) this.close(CloseCode.goingAway, "server shutting down");
  }

  /** Closes with `code` (the close frame follows whatever is buffered); every operation stops. */
  close(code: number, reason: string): void {
    if (this.closing) return;
    this.closing = true;
    this.env.metrics.closes.inc({ code: String(code) });
    this.stopAll(new Error(`The connection was closed (${code} ${reason})`));
    this.ws.close(code, reason);
  }

  /** Drops the socket at once (dead peer, shutdown deadline). */
  terminate(): void {
    this.closing = true;
    this.stopAll(new Error("The connection was terminated"));
    this.ws.terminate();
  }

  private onClose(): void {
    const first = !this.closing;
    this.closing = true;
    this.stopAll(new Error("The client disconnected"));
    if (first) this.log.debug("websocket closed by the client");
    this.env.onClosed(this);
  }

  private stopAll(reason: Error): void {
    for (const op of this.ops.values()) op.stop(reason);
  }

  // #endregion
  // #region messages

  private onMessage(data: RawData): void {
    this.alive = true;
    if (this.closing) return;
    this.in.inc();
    if (!this.takeToken()) {
      this.close(CloseCode.policy, `message rate limit exceeded (${this.env.ctx.config.ws.messagesPerSecond}/s)`);
      return;
    }
    const parsed = parseClientMessage(rawText(data), this.env.ctx.config.server.maxJsonDepth);
    if (!parsed.ok) {
      this.send(parsed.error);
      return;
    }
    this.handle(parsed.message);
  }

  private handle(message: ClientMessage): void {
    switch (message.type) {
      case "ping":
        this.send(message.id === undefined ? { type: "pong" } : { type: "pong", id: message.id });
        return;
      case "cancel": {
        const op = this.ops.get(message.id);
        if (op) op.cancel();
        else this.sendError(message.id, "NOT_FOUND", `Nothing with id ${message.id} is in flight on this connection (it may have ended already).`);
        return;
      }
      case "run":
      case "subscribe":
      case "resume":
        if (this.draining) {
          this.sendError(message.id, "UNAVAILABLE", "The server is shutting down; reconnect and send it again.");
          return;
        }
        void (message.type === "run" ? startRun(this, message) : message.type === "resume" ? startResume(this, message) : startSubscription(this, message));
    }
  }

  /** Token bucket: `messagesPerSecond` per second, bursts up to the same number. */
  private takeToken(): boolean {
    const rate = this.env.ctx.config.ws.messagesPerSecond;
    const now = performance.now();
    this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) * rate) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  // #endregion
  // #region OperationHost

  register(id: string, op: Operation): boolean {
    if (this.ops.has(id)) {
      this.sendError(id, "CONFLICT", `An operation with id ${id} is still in flight on this connection; use a new id, or cancel it first.`);
      return false;
    }
    const max = this.env.ctx.config.ws.maxOperationsPerConnection;
    if (this.ops.size >= max) {
      this.sendError(id, "RATE_LIMITED", `${max} operations are in flight on this connection (the most allowed); wait for one to end or cancel one.`);
      return false;
    }
    this.ops.set(id, op);
    if (op.kind === "run") this.runs++;
    return true;
  }

  release(id: string, op: Operation): void {
    if (this.ops.get(id) !== op) return;
    this.ops.delete(id);
    if (op.kind === "run") this.runs--;
    if (this.draining && this.runs === 0) this.close(CloseCode.goingAway, "server shutting down");
  }

  async allowed(message: LimitedMessage): Promise<boolean> {
    const hook = this.env.hooks.onMessageLimit;
    if (hook === undefined) return true;
    try {
      if (await hook(this.info.identity, this.info.ip, message)) return true;
      this.sendError(message.id, "RATE_LIMITED", "Rate limit exceeded; retry later.");
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal === undefined) {
        this.log.error({ err: error }, "websocket message limit hook failed");
        this.sendError(message.id, "UNAVAILABLE", "The request could not be checked against the rate limits; retry shortly.");
        return false;
      }
      const retryAfter = Number(refusal.headers["Retry-After"] ?? Number.NaN);
      this.sendError(message.id, refusal.code, refusal.message, Number.isFinite(retryAfter) ? { retry_after: retryAfter } : undefined);
    }
    return false;
  }

  /** Sends one message; false when the socket is not open. A reader this far behind is closed with 1013. */
  send(message: object): boolean {
    return this.sendText(JSON.stringify(message));
  }

  /** Sends a run or task event with the client's `id` first (built as text: no copy of the event). */
  sendEvent(id: string, event: object): boolean {
    return this.sendEventText(id, JSON.stringify(event));
  }

  sendEventText(id: string, json: string): boolean {
    return this.sendText(`{"id":${JSON.stringify(id)},${json.slice(1)}`);
  }

  private sendText(text: string): boolean {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return false;
    this.cork();
    this.ws.send(text);
    this.out.inc();
    if (this.ws.bufferedAmount > this.env.ctx.config.ws.maxBufferedBytes) {
      this.close(CloseCode.tryAgainLater, "slow consumer: too much data buffered");
      return false;
    }
    return true;
  }

  /**
   * Holds this tick's frames and writes them in one go on the next tick, as Node's HTTP responses do (the SSE
   * route gets that for free): a burst of events costs one write instead of one per event. `_socket` is
   * ws's own field; without it frames simply go out one by one.
   */
  private cork(): void {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket?: Duplex | null })._socket;
    if (typeof socket?.cork !== "function") return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork();
    });
  }

  sendError(id: string | undefined, code: ErrorCode, text: string, details?: unknown): void {
    this.send(errorMessage(id, code, text, details));
  }

  /** Bytes waiting to go out on this socket. */
  get buffered(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Calls `resume` once everything sent so far has been handed to the network: a ping goes out behind the
   * queued data, and its write callback fires when the queue before it has drained.
   */
  whenFlushed(resume: () => void): void {
    if (this.closing || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.ping(undefined, undefined, (error) => {
      if (!error) resume();
    });
  }

  // #endregion
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
