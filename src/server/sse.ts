import type { Response } from "express";

/** A server-sent-events response: `event:` = type, `id:` = seq, `data:` = JSON. */
export interface SseStream {
  /** Sends one event; false when the client is gone. */
  send(event: { type: string; seq?: number }): boolean;
  /** Sends one event already serialised (`json`: its JSON text); false when the client is gone. */
  sendText(type: string, seq: number | undefined, json: string): boolean;
  /** Ends the stream. */
  close(): void;
  /** True once the client went away or the stream was closed. */
  readonly closed: boolean;
}

/**
 * Starts an SSE response: headers (no buffering by proxies), a comment heartbeat while idle, and one frame
 * per event. Calls `onClose` once when the client disconnects or the stream ends.
 *
 * @example
 * const sse = openSse(res, { heartbeatMs: 15_000, onClose: () => controller.abort() });
 * sse.send({ type: "data", seq: 3, chunk: "hi" });
 */
export function openSse(res: Response, options: { heartbeatMs?: number; onClose?: () => void } = {}): SseStream {
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache, no-transform");
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  let closed = false;
  const heartbeat = setInterval(() => {
    if (!closed) res.write(": keep-alive\n\n");
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    options.onClose?.();
  };
  res.on("close", finish);
  return {
    get closed() {
      return closed;
    },
    send(event) {
      return this.sendText(event.type, event.seq, JSON.stringify(event));
    },
    sendText(type, seq, json) {
      if (closed) return false;
      const id = seq === undefined ? "" : `id: ${seq}\n`;
      res.write(`event: ${type}\n${id}data: ${json}\n\n`);
      return true;
    },
    close() {
      if (closed) return;
      res.end();
      finish();
    },
  };
}
