// Store outage: with Redis away, consume fails fast with LimiterUnavailableError (never hangs in a queue),
// and the same limiter works again once Redis is back, without a restart.
import { describe, expect, it } from "vitest";
import { createRateLimiter, LimiterUnavailableError, type RateLimiter } from "../../../src/security/rate-limit/index.js";
import { rateLimitSettings } from "./support/limiter-settings.js";
import { pollUntil } from "./support/poll.js";
import { freePort } from "./support/ports.js";
import { limiterClient, startRedisServer } from "./support/redis.js";

/** Consumes once and returns the error it rejected with (failing the test if it did not) and how long it took. */
async function failure(limiter: RateLimiter): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await limiter.consume("ip:5.6.7.8", "10/minute").then(
    (d) => new Error(`expected a rejection, got ${JSON.stringify(d)}`),
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe("Redis outage", () => {
  it("fails fast while Redis is down and recovers by itself when it comes (back)", async () => {
    const port = await freePort();
    const { client } = limiterClient(`redis://127.0.0.1:${port}`);
    const limiter = createRateLimiter({ config: rateLimitSettings({ failOpen: true }), store: { kind: "redis", client, prefix: "kaygraph-outage" } });
    expect(limiter.failOpen).toBe(true);

    // 1. Nothing listens: every consume rejects at once with the typed error.
    for (let i = 0; i < 3; i++) {
      const { error, ms } = await failure(limiter);
      expect(LimiterUnavailableError.is(error)).toBe(true);
      expect(error).toMatchObject({ store: "redis" });
      expect(ms).toBeLessThan(250);
    }

    // 2. A server appears on that port: the same limiter starts answering.
    const server = startRedisServer(port);
    const first = await pollUntil(() => limiter.consume("ip:5.6.7.8", "10/minute"), "the limiter to recover", 15_000, 50);
    expect(first).toMatchObject({ allowed: true, remaining: 9 });

    // 3. The server dies: consumes fail fast again (once the client has noticed).
    await server.stop();
    const down = await pollUntil(async () => {
      const { error } = await failure(limiter);
      return LimiterUnavailableError.is(error) ? error : undefined;
    }, "the outage to be noticed", 5000, 20);
    expect(down).toBeInstanceOf(LimiterUnavailableError);
    const { error, ms } = await failure(limiter);
    expect(LimiterUnavailableError.is(error)).toBe(true);
    expect(ms).toBeLessThan(250);

    // 4. And it comes back once more, with no restart of anything on our side.
    startRedisServer(port);
    const again = await pollUntil(() => limiter.consume("ip:5.6.7.8", "10/minute"), "the second recovery", 15_000, 50);
    expect(again.allowed).toBe(true);
  });
});
