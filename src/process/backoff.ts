/** Restart policy of crashed workers. */
export interface RestartPolicy {
  /** First restart delay (ms); doubles per consecutive crash. */
  initialDelayMs: number;
  /** Largest delay (ms). */
  maxDelayMs: number;
  /** A worker that stayed up this long resets the doubling. */
  resetAfterMs: number;
  /** This many unexpected deaths within `windowMs` is a crash loop: give up. */
  maxDeaths: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 100, maxDelayMs: 15_000, resetAfterMs: 30_000, maxDeaths: 5, windowMs: 60_000 };

/**
 * Tracks worker deaths: the delay before the next restart (exponential, capped, reset after a healthy run)
 * and whether the deaths amount to a crash loop.
 */
export class CrashTracker {
  private consecutive = 0;
  private readonly deaths: number[] = [];

  constructor(private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY) {}

  /** Records a death of a worker that had been up for `uptimeMs`; returns the restart delay, or undefined = crash loop. */
  recordDeath(uptimeMs: number, now = Date.now()): number | undefined {
    if (uptimeMs >= this.policy.resetAfterMs) this.consecutive = 0;
    this.consecutive++;
    this.deaths.push(now);
    while (this.deaths.length > 0 && (this.deaths[0] as number) < now - this.policy.windowMs) this.deaths.shift();
    if (this.deaths.length >= this.policy.maxDeaths) return undefined;
    return Math.min(this.policy.initialDelayMs * 2 ** (this.consecutive - 1), this.policy.maxDelayMs);
  }

  /** Deaths inside the window. */
  get recentDeaths(): number {
    return this.deaths.length;
  }
}
