import type http from "node:http";
import type { Socket } from "node:net";

interface SocketState {
  /** Responses in flight on this socket. */
  responses: Set<http.ServerResponse>;
  /** When the socket last started or finished a request (ms epoch). */
  lastActive: number;
}

/** What the drain deadline does to each response in flight (see {@link ConnectionTracker.endAtDeadline}). */
export interface DeadlineHooks {
  /** The run answering a response not yet started, to abort. */
  abortRun(res: http.ServerResponse): ((reason: Error) => void) | undefined;
  /** How a started response (a stream) ends: its terminal event, then the end. */
  endStream(res: http.ServerResponse): ((reason: Error) => void) | undefined;
  /** Answers a response nobody answered within the grace (503). */
  answer(res: http.ServerResponse): void;
}

/** Resolves once every response closed, or after `ms`. */
async function settled(responses: readonly http.ServerResponse[], ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const closed = responses.map((res) => (res.closed ? Promise.resolve() : new Promise<void>((resolve) => res.once("close", () => resolve()))));
  await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()))]);
  clearTimeout(timer);
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
   * The drain deadline, for every response still in flight: a stream ends with its terminal event
   * (`endStream`); a response not yet started has its run aborted (`abortRun`: it answers 503 UNAVAILABLE).
   * Resolves once those responses are done, or after `graceMs`; a response still unanswered then is answered
   * by `answer` (503) — never left to be cut off with an empty reply.
   */
  async endAtDeadline(hooks: DeadlineHooks, graceMs: number): Promise<void> {
    const reason = new Error("the server is shutting down; retry the request");
    const open: http.ServerResponse[] = [];
    for (const state of this.sockets.values()) {
      for (const res of state.responses) {
        if (res.headersSent) hooks.endStream(res)?.(reason);
        else hooks.abortRun(res)?.(reason);
        if (!res.writableFinished) open.push(res);
      }
    }
    if (open.length === 0) return;
    await settled(open, graceMs);
    const unanswered = open.filter((res) => !res.headersSent && !res.destroyed);
    for (const res of unanswered) hooks.answer(res);
    // Small, already written: the 503s flush at once unless a client stopped reading (then the grace ends it).
    if (unanswered.length > 0) await settled(unanswered, graceMs);
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
