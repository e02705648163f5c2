/**
 * The scale-out counter store: Redis, shared by every process on every machine. rate-limiter-flexible's
 * RateLimiterRedis counts with one Lua script (SET NX EX + INCRBY + PTTL), atomic on the Redis server.
 */
import { Redis, type RedisOptions } from "ioredis";
import { RLWrapperTimeouts, RateLimiterRedis } from "rate-limiter-flexible";
import type { LimiterStore } from "./store.js";

/** Options of the Redis store. */
export interface RedisStoreOptions {
  kind: "redis";
  /** An ioredis client, ideally from {@link createLimiterRedisClient}. The caller owns (and quits) it. */
  client: Redis;
  /** Key prefix (`redis.prefix` of the settings, e.g. `"kaygraph"`). */
  prefix: string;
  /** Longest wait for one consume before it fails as unavailable. Default 1000 ms. */
  timeoutMs?: number;
}

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

/**
 * A store on `options.client`. `rejectIfRedisNotReady` makes consumes fail at once while the client is
 * (re)connecting even if the client was built with an offline queue.
 *
 * @example
 * const store = redisStore({ kind: "redis", client, prefix: "kaygraph" });
 */
export function redisStore(options: RedisStoreOptions): LimiterStore {
  const timeoutMs = options.timeoutMs ?? 1000;
  return {
    kind: "redis",
    create: (spec, keyPrefix) =>
      new RLWrapperTimeouts({
        timeoutMs,
        limiter: new RateLimiterRedis({
          storeClient: options.client,
          rejectIfRedisNotReady: true,
          points: spec.points,
          duration: spec.durationSec,
          keyPrefix: `${options.prefix}:${keyPrefix}`,
        }),
      }),
    // Bounded by the client's command timeout (LIMITER_REDIS_OPTIONS).
    probe: async () => void (await options.client.ping()),
    close: async () => undefined,
  };
}
