import type http from "node:http";
import type { Socket } from "node:net";

interface SocketState {
  /** Responses in flight on this socket. */
  responses: Set<http.ServerResponse>;
  /** When the socket last started or finished a request (ms epoch). */
  lastActive: number;
}

/**
 * Tracks a server's sockets, their in-flight responses and when each was last used, so a drain can send
 * keep-alive clients away without racing them: a socket in use gets `Connection: close` on its response and
 * is closed by Node right after it; a socket is closed by the server only once it has been unused for a
 * while (a client in a steady request loop never is; a browser tab that went quiet is at once).
 */
export class ConnectionTracker {
  private readonly sockets = new Map<Socket, SocketState>();

  constructor(server: http.Server) {
    server.on("connection", (socket: Socket) => {
      this.sockets.set(socket, { responses: new Set(), lastActive: Date.now() });
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const state = this.sockets.get(req.socket);
      if (!state) return;
      state.lastActive = Date.now();
      state.responses.add(res);
      res.once("close", () => {
        state.responses.delete(res);
        state.lastActive = Date.now();
      });
    });
  }

  /** Stops tracking a socket taken over by another protocol (a WebSocket): its owner closes it on drain. */
  release(socket: Socket): void {
    this.sockets.delete(socket);
  }

  /** Marks every response not yet started to close its connection. */
  beginDrain(): void {
    for (const state of this.sockets.values()) {
      for (const res of state.responses) if (!res.headersSent) res.setHeader("Connection", "close");
    }
  }

  /**
   * The drain deadline: aborts the run of every response not yet started (it answers 503 UNAVAILABLE) and
   * resolves once those responses are sent, or after `graceMs`.
   */
  async abortUnanswered(abortRunOf: (res: http.ServerResponse) => ((reason: Error) => void) | undefined, graceMs: number): Promise<void> {
    const answered: Promise<void>[] = [];
    for (const state of this.sockets.values()) {
      for (const res of state.responses) {
        const abort = res.headersSent ? undefined : abortRunOf(res);
        if (!abort) continue;
        answered.push(new Promise((resolve) => res.once("close", () => resolve())));
        abort(new Error("the server is shutting down; retry the request"));
      }
    }
    if (answered.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(answered), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs).unref()))]);
    clearTimeout(timer);
  }

  /** Closes sockets with nothing in flight that were unused for `idleMs`; returns how many idle sockets remain. */
  sweep(idleMs: number, now = Date.now()): number {
    let idle = 0;
    for (const [socket, state] of this.sockets) {
      if (state.responses.size > 0) continue;
      if (now - state.lastActive >= idleMs) {
        socket.end();
        this.sockets.delete(socket);
      } else {
        idle++;
      }
    }
    return idle;
  }
}
