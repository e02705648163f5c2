/** Why the primary replaces a worker that is still healthy (gunicorn's `max_requests`, plus a memory bound). */
export type RecycleReason = "max_requests" | "max_memory";

/** A worker's recycling limits; 0 turns one off. */
export interface RecycleLimits {
  /** Requests served before the worker is replaced (its own threshold, jitter included; see {@link requestBudget}). */
  maxRequests: number;
  /** Resident set size (MB) past which the worker is replaced. */
  maxMemoryMb: number;
}

/**
 * One worker's request budget: `maxRequests` plus a random 0…`jitter` requests, so workers started together
 * do not all recycle at the same moment. 0 = no limit.
 *
 * @example
 * requestBudget(1000, 50, () => 0.5); // 1025
 */
export function requestBudget(maxRequests: number, jitter: number, random: () => number = Math.random): number {
  if (maxRequests <= 0) return 0;
  return maxRequests + Math.floor(random() * (Math.max(0, jitter) + 1));
}

/**
 * Whether a worker that reported `requests` served and `rssMb` resident memory is due for replacement, and
 * why (requests first: the budget is the planned reason).
 *
 * @example
 * recycleReason({ requests: 200, rssMb: 80 }, { maxRequests: 200, maxMemoryMb: 0 }); // "max_requests"
 */
export function recycleReason(usage: { requests: number; rssMb: number }, limits: RecycleLimits): RecycleReason | undefined {
  if (limits.maxRequests > 0 && usage.requests >= limits.maxRequests) return "max_requests";
  if (limits.maxMemoryMb > 0 && usage.rssMb > limits.maxMemoryMb) return "max_memory";
  return undefined;
}
