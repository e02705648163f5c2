/** The run a worker recorded last (see run-record.ts): what the watchdog names when it kills the worker. */
export interface LastRun {
  graph: string;
  version: number;
  kind: string;
  requestId?: string;
  /** When the worker reported it (epoch ms). */
  at: number;
}

/**
 * Heartbeat bookkeeping for one worker (the primary's side of the watchdog): when its main event loop last
 * spoke. Armed only once the worker is ready, so a worker still loading its
 * graphs (tsx compiles them synchronously) is never taken for a stuck one.
 *
 * @example
 * const live = new Liveness();
 * live.arm(0);
 * live.silentFor(1_500);        // 1500
 * live.expired(1_500, 1_000);   // true
 */
export class Liveness {
  private lastBeat: number | undefined;

  /** Starts watching (the worker is ready): counts as a heartbeat. */
  arm(now = Date.now()): void {
    this.lastBeat = now;
  }

  /** True once {@link arm} was called. */
  get armed(): boolean {
    return this.lastBeat !== undefined;
  }

  /** Any message from the worker's main thread proves its event loop turns. */
  beat(now = Date.now()): void {
    if (this.lastBeat !== undefined) this.lastBeat = Math.max(this.lastBeat, now);
  }

  /** Milliseconds since the last sign of life (0 while not armed). */
  silentFor(now = Date.now()): number {
    return this.lastBeat === undefined ? 0 : Math.max(0, now - this.lastBeat);
  }

  /** True when armed and silent for longer than `timeoutMs` (a timeout of 0 never expires). */
  expired(now: number, timeoutMs: number): boolean {
    return timeoutMs > 0 && this.lastBeat !== undefined && now - this.lastBeat > timeoutMs;
  }
}

/** "echo@1 (request abc)", or "none reported" — for the watchdog's log line. */
export function describeRun(run: LastRun | undefined, now = Date.now()): string {
  if (!run) return "none reported";
  const what = run.requestId === undefined ? run.kind : run.kind === "task" ? `task ${run.requestId}` : `${run.kind} request ${run.requestId}`;
  return `${run.graph}@${run.version} (${what}, started ${Math.round((now - run.at) / 100) / 10}s ago)`;
}
