import { RateLimiterCluster, RateLimiterClusterMaster } from "rate-limiter-flexible";
import type { LimiterStore } from "./store.js";

/** Options of the cluster store. */
export interface ClusterStoreOptions {
  kind: "cluster";
  /** Longest wait for the primary's answer before a consume fails as unavailable. Default 1000 ms. */
  timeoutMs?: number;
}

/**
 * Counters held by the node:cluster primary (rate-limiter-flexible's cluster limiter): every worker asks
 * the primary over IPC, so counts are exact across the workers of one server, survive a worker's crash and
 * never wait on a file lock. (A SQLite file shared by several processes makes a writer that meets the lock
 * sleep in milliseconds, stalling its whole event loop under load.) Counts live as long as the primary.
 *
 * @example
 * // in the primary, once:
 * startClusterLimiterPrimary();
 * // in each worker:
 * createRateLimiter({ config, store: { kind: "cluster" } });
 */
export function clusterStore(options: ClusterStoreOptions): LimiterStore {
  return {
    kind: "cluster",
    create: (spec, keyPrefix) => new RateLimiterCluster({ keyPrefix, points: spec.points, duration: spec.durationSec, timeoutMs: options.timeoutMs ?? 1000 }),
    close: async () => undefined,
  };
}

let primary: RateLimiterClusterMaster | undefined;

/** Makes this cluster primary hold the counters of its workers' cluster limiters (idempotent). */
export function startClusterLimiterPrimary(): void {
  primary ??= new RateLimiterClusterMaster();
}
