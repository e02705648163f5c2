import type http from "node:http";
import type { Socket } from "node:net";

interface SocketState {
  /** Responses in flight on this socket. */
  responses: Set<http.ServerResponse>;
  /** A request arrived since the last drain sweep. */
  touched: boolean;
}

/**
 * Tracks a server's sockets and their in-flight responses so a drain can close keep-alive connections
 * without racing clients: a socket is closed only when it has had no request for a whole sweep interval;
 * a socket in use gets `Connection: close` on its response and is closed by Node right after it.
 */
export class ConnectionTracker {
  private readonly sockets = new Map<Socket, SocketState>();

  constructor(server: http.Server) {
    server.on("connection", (socket: Socket) => {
      this.sockets.set(socket, { responses: new Set(), touched: false });
      socket.once("close", () => this.sockets.delete(socket));
    });
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      const state = this.sockets.get(req.socket);
      if (!state) return;
      state.touched = true;
      state.responses.add(res);
      res.once("close", () => state.responses.delete(res));
    });
  }

  /** Marks every response not yet started to close its connection, and resets the activity marks. */
  beginDrain(): void {
    for (const state of this.sockets.values()) {
      state.touched = false;
      for (const res of state.responses) if (!res.headersSent) res.setHeader("Connection", "close");
    }
  }

  /** Closes sockets with nothing in flight and no request since the last sweep; returns how many. */
  sweep(): number {
    let closed = 0;
    for (const [socket, state] of this.sockets) {
      if (state.responses.size === 0 && !state.touched) {
        socket.end();
        this.sockets.delete(socket);
        closed++;
      } else {
        state.touched = false;
      }
    }
    return closed;
  }
}
