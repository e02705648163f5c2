/** Rate limiting core: specs, caller keys, the limiter on SQLite or Redis, and the response headers. */
export { parseRateSpec } from "./spec.js";
export type { RateSpec } from "./spec.js";
export { clientKey, subjectKey, UNKNOWN_CLIENT_KEY } from "./client-key.js";
export { createRateLimiter } from "./limiter.js";
export type { RateLimiter, RateLimiterOptions, RateLimitSettings, LimiterStoreOptions } from "./limiter.js";
export { LimiterUnavailableError } from "./decision.js";
export type { Decision } from "./decision.js";
export { createLimiterRedisClient, LIMITER_REDIS_OPTIONS } from "./redis-client.js";
export type { RedisStoreOptions } from "./redis-store.js";
export { RATE_LIMIT_TABLE } from "./sqlite-store.js";
export type { SqliteStoreOptions } from "./sqlite-store.js";
export { rateLimitHeaders } from "./headers.js";
export type { RateLimitHeaders } from "./headers.js";
export { rateTarget, ANONYMOUS_POLICY, FALLBACK_TIER } from "./target.js";
export type { RateTarget } from "./target.js";
export { clusterStore, startClusterLimiterPrimary, type ClusterStoreOptions } from "./cluster-store.js";
