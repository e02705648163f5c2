/**
 * Events a worker appended and the checkpoint it took that are not sent yet, per lease token. They are held
 * until the current run of synchronous code and its promise jobs ends (a microtask), so a transition of the same
 * lease called meanwhile carries them in its own call — one round trip and one script instead of two — and they
 * are sent on their own otherwise (events and checkpoints of one turn together). Whoever takes them writes them
 * before its own write, so a lease's writes keep their call order either way.
 */

interface Held {
  bodies: string[];
  /** The latest checkpoint held (JSON), or "". */
  checkpoint: string;
  resolve: (stored: boolean) => void;
  reject: (error: unknown) => void;
  promise: Promise<boolean>;
}

/** What a taker gets: the bodies, and `settle` to report whether its call stored them. */
export interface TakenEvents {
  bodies: string[];
  /** The latest checkpoint held (JSON), or "": stored after the bodies. */
  checkpoint: string;
  /** Settles every `hold` promise of these bodies like `stored` (true: stored; false: fenced; rejected: failed). */
  settle(stored: Promise<boolean>): void;
}

/**
 * The held events of a store.
 *
 * @example
 * const held = new HeldEvents();
 * const stored = held.hold(lease.token, ['{"type":"node_start"}'], (bodies) => appendScript(bodies)); // sent in a microtask…
 * const taken = held.take(lease.token); // …unless a transition takes them first
 */
export class HeldEvents {
  private readonly held = new Map<string, Held>();

  /**
   * Holds `bodies` (and `checkpoint` unless "", replacing one held before) for `token`; if nobody takes them
   * before the microtask, `send` stores them (with any held after them in the same tick). Resolves like the call
   * that stored them.
   */
  hold(token: string, bodies: string[], send: (bodies: string[], checkpoint: string) => Promise<boolean>, checkpoint = ""): Promise<boolean> {
    let held = this.held.get(token);
    if (held === undefined) {
      let resolve!: (stored: boolean) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<boolean>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      const entry: Held = { bodies: [], checkpoint: "", resolve, reject, promise };
      this.held.set(token, entry);
      queueMicrotask(() => {
        if (this.held.get(token) !== entry) return;
        this.held.delete(token);
        send(entry.bodies, entry.checkpoint).then(entry.resolve, entry.reject);
      });
      held = entry;
    }
    held.bodies.push(...bodies);
    if (checkpoint !== "") held.checkpoint = checkpoint;
    return held.promise;
  }

  /** Takes what is held for `token` (undefined when nothing is). */
  take(token: string): TakenEvents | undefined {
    const held = this.held.get(token);
    if (held === undefined) return undefined;
    this.held.delete(token);
    return { bodies: held.bodies, checkpoint: held.checkpoint, settle: (stored) => void stored.then(held.resolve, held.reject) };
  }
}
