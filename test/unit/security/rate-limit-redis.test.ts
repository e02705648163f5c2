// The scale-out limiter on the machine's Redis: exact counts, also across clients (machines).
import { describe, expect, it } from "vitest";
import { createRateLimiter } from "../../../src/security/rate-limit/index.js";
import { rateLimitSettings } from "./support/limiter-settings.js";
import { LOCAL_REDIS_URL, limiterClient, ready, uniquePrefix } from "./support/redis.js";

async function redisLimiter(prefix?: string) {
  const { client } = limiterClient(LOCAL_REDIS_URL);
  await ready(client);
  const keyPrefix = prefix ?? uniquePrefix(client);
  return { limiter: createRateLimiter({ config: rateLimitSettings(), store: { kind: "redis", client, prefix: keyPrefix } }), client, prefix: keyPrefix };
}

describe("Redis limiter", () => {
  it("allows exactly 10 of 30 consumes at 10/minute", async () => {
    const { limiter } = await redisLimiter();
    const decisions = [];
    for (let i = 0; i < 30; i++) decisions.push(await limiter.consume("ip:1.2.3.4", "10/minute"));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.slice(0, 10).map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(decisions[29]).toMatchObject({ allowed: false, remaining: 0, limit: 10, windowSec: 60 });
    expect(decisions[29]!.retryAfterSec).toBeGreaterThanOrEqual(1);
  });

  it("allows exactly 50 of 200 concurrent consumes at 50/minute", async () => {
    const { limiter } = await redisLimiter();
    const decisions = await Promise.all(Array.from({ length: 200 }, () => limiter.consume("sub:alice", "50/minute")));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
  });

  it("shares one exact count between limiters on separate connections (two machines)", async () => {
    const first = await redisLimiter();
    const second = await redisLimiter(first.prefix);
    const decisions = await Promise.all(Array.from({ length: 120 }, (_, i) => (i % 2 ? first : second).limiter.consume("sub:bob", "50/minute")));
    const allowed = decisions.filter((d) => d.allowed);
    expect(allowed).toHaveLength(50);
    expect(new Set(allowed.map((d) => d.remaining)).size).toBe(50);
  });

  it("keeps counters under the prefix, one per spec, expiring with the window", async () => {
    const { limiter, client, prefix } = await redisLimiter();
    await limiter.consume("ip:9.9.9.9", "10/minute");
    await limiter.consume("ip:9.9.9.9", "3/hour");
    expect((await client.keys(`${prefix}:*`)).sort()).toEqual([`${prefix}:rl:10:60:ip:9.9.9.9`, `${prefix}:rl:3:3600:ip:9.9.9.9`]);
    const ttl = await client.pttl(`${prefix}:rl:10:60:ip:9.9.9.9`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });
});
