/** What the limiter answers for one request, and the error it raises when its store is down. */
import type { LimiterStore } from "./store.js";

/** The outcome of one `consume`. */
export interface Decision {
  /** Whether the request may proceed. */
  readonly allowed: boolean;
  /** Requests allowed per window (the spec's points). */
  readonly limit: number;
  /** Requests left in the current window (0 when denied). */
  readonly remaining: number;
  /** Whole seconds until the current window resets (rounded up). */
  readonly resetSec: number;
  /** Whole seconds to wait before retrying: 0 when allowed, at least 1 when denied. */
  readonly retryAfterSec: number;
  /** Window length in seconds (the spec's duration). */
  readonly windowSec: number;
}

/**
 * The limit store (SQLite file, Redis) could not answer. The HTTP layer answers 503 `UNAVAILABLE`, or lets the
 * request through when `rateLimit.failOpen` is set. The cause goes to the log, never to the client.
 *
 * @example
 * try { decision = await limiter.consume(key, spec) }
 * catch (e) { if (!LimiterUnavailableError.is(e)) throw e; if (!config.rateLimit.failOpen) return unavailable(res) }
 */
export class LimiterUnavailableError extends Error {
  readonly code = "LIMITER_UNAVAILABLE";
  /** Which store failed. */
  readonly store: LimiterStore["kind"];

  constructor(store: LimiterStore["kind"], cause: unknown) {
    super(`The rate-limit store (${store}) is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "LimiterUnavailableError";
    this.store = store;
  }

  /** True for this error, even from another copy of the package. */
  static is(error: unknown): error is LimiterUnavailableError {
    return error instanceof LimiterUnavailableError || (error instanceof Error && (error as { code?: unknown }).code === "LIMITER_UNAVAILABLE");
  }
}
