/**
 * An abort its caller may fire (the client went away, the drain deadline) that makes its AbortController only
 * when someone asks for the signal. A run inline asks (graph code sees the signal); a run in a worker thread
 * only needs to hear of the abort ({@link LazyAbort.listen}), so a sync request answered from a thread makes
 * no AbortController at all — creating one and listening to it was a measurable part of such a request's
 * main-thread time. It has AbortController's shape, so it goes wherever a run takes a `controller`.
 *
 * @example
 * const abort = new LazyAbort();
 * res.once("close", () => abort.abort(new Error("The client disconnected")));
 * await runs.start(graph, input, { transport: "sync", controller: abort, requestId });
 */
export class LazyAbort implements AbortController {
  private controller: AbortController | undefined;
  private listener: ((reason: unknown) => void) | undefined;
  private fired = false;
  private why: unknown;

  /** The signal (made now if it was not yet; aborted already if the abort came first). */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.fired) this.controller.abort(this.why);
    }
    return this.controller.signal;
  }

  /** True once aborted. */
  get aborted(): boolean {
    return this.fired;
  }

  /** The reason it was aborted with. */
  get reason(): unknown {
    return this.why;
  }

  /** Aborts (once): the signal if one was made, and the listener. */
  abort(reason?: unknown): void {
    if (this.fired) return;
    this.fired = true;
    this.why = reason ?? new DOMException("This operation was aborted", "AbortError");
    this.controller?.abort(this.why);
    const listener = this.listener;
    this.listener = undefined;
    listener?.(this.why);
  }

  /** Calls `onAbort` once when aborted (the one listener; a later call replaces it). Returns how to stop listening. */
  listen(onAbort: (reason: unknown) => void): () => void {
    this.listener = onAbort;
    return () => {
      if (this.listener === onAbort) this.listener = undefined;
    };
  }
}
