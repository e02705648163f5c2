/**
 * The scale-out counter store: Redis, shared by every process on every machine. rate-limiter-flexible's
 * RateLimiterRedis counts with one Lua script (SET NX EX + INCRBY + PTTL), atomic on the Redis server.
 */
import type { Redis } from "ioredis";
import { RLWrapperTimeouts, RateLimiterRedis } from "rate-limiter-flexible";
import type { LimiterStore } from "./store.js";

/** Options of the Redis store. */
export interface RedisStoreOptions {
  kind: "redis";
  /** An ioredis client, ideally from `createLimiterRedisClient` (redis-client.ts). The caller owns (and quits) it. */
  client: Redis;
  /** Key prefix (`redis.prefix` of the settings, e.g. `"kaygraph"`). */
  prefix: string;
  /** Longest wait for one consume before it fails as unavailable. Default 1000 ms. */
  timeoutMs?: number;
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
