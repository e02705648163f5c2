import cluster from "node:cluster";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { TokenVerifier } from "../security/jwt/verifier.js";
import type { RateLimiter } from "../security/rate-limit/limiter.js";

/** The security services of a server process: JWT verification and rate limiting, each optional. */
export interface Guard {
  /** Present when `auth.mode` is `jwt`. */
  verifier: TokenVerifier | undefined;
  /** Present when rate limits are on. */
  limiter: RateLimiter | undefined;
  close(): Promise<void>;
}

/**
 * Builds the verifier and the limiter from the settings, before the server listens: a missing or weak secret
 * or a bad key fails here (exit 2). Counters live in Redis with `redis.url` (a client of their own that fails
 * fast while Redis is away); under the cluster supervisor (serve, dev) in the primary's memory, which every
 * worker asks over IPC; in a process of its own, in the SQLite file `rateLimit.database`.
 *
 * Each part's code (jose, rate-limiter-flexible, ioredis) loads only when the settings ask for it: a worker
 * starts faster without what it does not use (every `kaygraph dev` reload starts one).
 */
export async function createGuard(config: ResolvedConfig, logger: Logger): Promise<Guard> {
  let verifier: TokenVerifier | undefined;
  if (config.auth.mode === "jwt") {
    const { createTokenVerifier, withVerificationCache } = await import("../security/jwt/index.js");
    verifier = withVerificationCache(await createTokenVerifier(config.auth), { clockToleranceSec: config.auth.clockTolerance });
  }
  let redis: Redis | undefined;
  let limiter: RateLimiter | undefined;
  if (config.rateLimit.enabled) {
    const { createRateLimiter } = await import("../security/rate-limit/limiter.js");
    const onError = (error: unknown) => logger.warn({ err: error }, "rate-limit store");
    if (config.redis.url) {
      const { createLimiterRedisClient } = await import("../security/rate-limit/redis-client.js");
      redis = createLimiterRedisClient(config.redis.url, onError);
      // Serve only once counting works; until then the limiter would answer 503 for every request.
      await new Promise<void>((resolve) => {
        if (redis?.status === "ready") resolve();
        else redis?.once("ready", () => resolve());
        setTimeout(resolve, 5_000).unref();
      });
      limiter = createRateLimiter({ config: config.rateLimit, store: { kind: "redis", client: redis, prefix: config.redis.prefix }, onError });
    } else if (cluster.isWorker) {
      // Under the supervisor the primary holds the counts (exact across workers, no file-lock stalls).
      limiter = createRateLimiter({ config: config.rateLimit, store: { kind: "cluster" }, onError });
    } else {
      limiter = createRateLimiter({ config: config.rateLimit, store: { kind: "sqlite", file: config.rateLimit.database }, onError });
    }
  }
  return {
    verifier,
    limiter,
    async close() {
      await limiter?.close();
      redis?.disconnect();
    },
  };
}
