/** The contract between the limiter facade and its counter stores (SQLite file, Redis). */
import type { RateLimiterAbstract, RateLimiterCompatibleAbstract, RateLimiterStoreAbstract, RLWrapperTimeouts } from "rate-limiter-flexible";
import type { RateSpec } from "./spec.js";

/** A rate-limiter-flexible limiter for one spec. */
export type SpecLimiter = RateLimiterAbstract | RateLimiterStoreAbstract | RateLimiterCompatibleAbstract | RLWrapperTimeouts;

/** An opened counter store. */
export interface LimiterStore {
  /** Which store, for errors and metrics. */
  readonly kind: "sqlite" | "redis" | "cluster";
  /** A limiter counting `spec` under `keyPrefix`. */
  create(spec: RateSpec, keyPrefix: string): SpecLimiter;
  /** A cheap health check (Redis: PING; SQLite: `SELECT 1` and the file is still the one opened); rejects when down. */
  probe?(): Promise<void>;
  /** Releases what the store opened itself (never a caller's Redis client). */
  close(): Promise<void>;
}
