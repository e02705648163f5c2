/** Restart policy of workers that die. */
export interface RestartPolicy {
  /** First restart delay (ms); doubles per consecutive death. */
  initialDelayMs: number;
  /** Largest delay (ms). */
  maxDelayMs: number;
  /** A worker that stayed up this long resets the doubling. */
  resetAfterMs: number;
  /**
   * Replacements in a row that could not become ready (load error, died while booting) before the primary
   * gives up — counted only while no worker is serving: as long as one serves, the primary keeps trying.
   */
  maxBootFailures: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 15_000, resetAfterMs: 30_000, maxBootFailures: 5 };

/**
 * The delays before replacing dead workers: exponential, capped, and reset once a worker stayed up long
 * enough. A worker that crashes after it was ready is always replaced (a crash in user code must not end the
 * service); only replacements that cannot boot while nothing serves amount to giving up.
 *
 * @example
 * const tracker = new CrashTracker();
 * tracker.recordDeath(50);    // 100 (ms)
 * tracker.recordDeath(50);    // 200
 */
export class CrashTracker {
  private consecutive = 0;
  private bootFailures = 0;

  constructor(private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /**
   * Records the death of a worker that had been ready for `uptimeMs`; returns the delay before its
   * replacement. While other workers serve, the delay grows per death in a row (a graph that kills every
   * worker it lands on must not cause a fork storm); with none serving, the replacement starts after the
   * first delay — capacity comes first, and a worker's own boot time already paces the restarts.
   */
  recordDeath(uptimeMs: number, othersServing = true): number {
    if (uptimeMs >= this.policy.resetAfterMs) this.consecutive = 0;
    const delay = this.nextDelay();
    return othersServing ? delay : this.policy.initialDelayMs;
  }

  /**
   * Records a replacement that could not become ready. Returns the delay before the next try, or `undefined`
   * when the primary should give up: `maxBootFailures` in a row and no worker `serving`.
   */
  recordBootFailure(serving: boolean): number | undefined {
    this.bootFailures++;
    if (!serving && this.bootFailures >= this.policy.maxBootFailures) return undefined;
    return this.nextDelay();
  }

  /** A worker became ready: boot failures in a row start again from zero. */
  recordReady(): void {
    this.bootFailures = 0;
  }

  /** Replacements in a row that could not become ready. */
  get bootFailuresInARow(): number {
    return this.bootFailures;
  }

  private nextDelay(): number {
    this.consecutive++;
    return Math.min(this.policy.initialDelayMs * 2 ** (this.consecutive - 1), this.policy.maxDelayMs);
  }
}
