/**
 * The ioredis client of the Redis counter store, apart from the store itself so that only a process that
 * counts in Redis loads ioredis.
 */
import { Redis, type RedisOptions } from "ioredis";

/**
 * ioredis options for a limiter client that fails fast while Redis is away and recovers by itself:
 * no offline queue (a command while disconnected rejects at once instead of waiting for a reconnect),
 * no per-request retries, a command timeout, and endless reconnects with capped backoff.
 */
export const LIMITER_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  commandTimeout: 1000,
  connectTimeout: 2000,
  retryStrategy: (attempt: number) => Math.min(50 * attempt, 1000),
});

/**
 * An ioredis client with {@link LIMITER_REDIS_OPTIONS}. `onError` receives connection errors (ioredis would
 * otherwise print "Unhandled error event" for each reconnect attempt); log them rate-limited.
 *
 * @example
 * const client = createLimiterRedisClient(config.redis.url, (e) => log.warn({ err: e }, "rate-limit redis"));
 */
export function createLimiterRedisClient(url: string, onError: (error: Error) => void, overrides: RedisOptions = {}): Redis {
  const client = new Redis(url, { ...LIMITER_REDIS_OPTIONS, ...overrides });
  client.on("error", onError);
  return client;
}
