// The embedded limiter on a SQLite file: exact counts, independent keys and specs, windows that reset,
// counts that outlive the process, and a typed error (then recovery) when the store is locked.
import Database from "better-sqlite3";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createRateLimiter, LimiterUnavailableError, type RateLimiter } from "../../../src/security/rate-limit/index.js";
import { tmpProject } from "../../helpers/tmp-project.js";
import { rateLimitSettings } from "./support/limiter-settings.js";
import { pollUntil } from "./support/poll.js";

async function sqliteLimiter(options: { file?: string; busyTimeoutMs?: number } = {}): Promise<{ limiter: RateLimiter; file: string }> {
  const file = options.file ?? path.join(await tmpProject({}, { linkKaygraph: false }), ".kaygraph", "ratelimit.db");
  const limiter = createRateLimiter({ config: rateLimitSettings(), store: { kind: "sqlite", file, busyTimeoutMs: options.busyTimeoutMs } });
  return { limiter, file };
}

describe("SQLite limiter", () => {
  it("allows exactly 10 of 30 consumes at 10/minute, counting remaining down", async () => {
    const { limiter } = await sqliteLimiter();
    const decisions = [];
    for (let i = 0; i < 30; i++) decisions.push(await limiter.consume("ip:1.2.3.4", "10/minute"));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(10);
    expect(decisions.slice(0, 10).map((d) => d.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    for (const denied of decisions.slice(10)) {
      expect(denied).toMatchObject({ allowed: false, limit: 10, remaining: 0, windowSec: 60 });
      expect(denied.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(denied.retryAfterSec).toBeLessThanOrEqual(60);
    }
    await limiter.close();
  });

  it("allows exactly 50 of 200 concurrent consumes at 50/minute", async () => {
    const { limiter } = await sqliteLimiter();
    const decisions = await Promise.all(Array.from({ length: 200 }, () => limiter.consume("sub:alice", "50/minute")));
    const allowed = decisions.filter((d) => d.allowed);
    expect(allowed).toHaveLength(50);
    expect(new Set(allowed.map((d) => d.remaining)).size).toBe(50);
    await limiter.close();
  });

  it("counts keys and specs separately", async () => {
    const { limiter } = await sqliteLimiter();
    for (let i = 0; i < 2; i++) await limiter.consume("ip:a", "2/minute");
    expect((await limiter.consume("ip:a", "2/minute")).allowed).toBe(false);
    expect((await limiter.consume("ip:b", "2/minute")).allowed).toBe(true);
    expect((await limiter.consume("ip:a", "5/minute")).allowed).toBe(true);
    await limiter.close();
  });

  it("starts a new window once the old one has passed", async () => {
    const { limiter } = await sqliteLimiter();
    await limiter.consume("ip:w", "2/second");
    await limiter.consume("ip:w", "2/second");
    const denied = await limiter.consume("ip:w", "2/second");
    expect(denied).toMatchObject({ allowed: false, retryAfterSec: 1 });
    const next = await pollUntil(async () => {
      const decision = await limiter.consume("ip:w", "2/second");
      return decision.allowed ? decision : undefined;
    }, "a new window", 5000, 50);
    expect(next.remaining).toBe(1);
    await limiter.close();
  });

  it("keeps counts in the file: a new limiter on it continues where the last one stopped", async () => {
    const first = await sqliteLimiter();
    for (let i = 0; i < 4; i++) await first.limiter.consume("sub:bob", "10/minute");
    await first.limiter.close();
    const second = await sqliteLimiter({ file: first.file });
    expect((await second.limiter.consume("sub:bob", "10/minute")).remaining).toBe(5);
    await second.limiter.close();
  });

  it("rejects with LimiterUnavailableError while another process holds the write lock, then recovers", async () => {
    const { limiter, file } = await sqliteLimiter({ busyTimeoutMs: 100 });
    const blocker = new Database(file);
    blocker.exec("BEGIN EXCLUSIVE");
    const started = performance.now();
    const error = await limiter.consume("ip:x", "10/minute").catch((e: unknown) => e);
    expect(LimiterUnavailableError.is(error)).toBe(true);
    expect(error).toMatchObject({ store: "sqlite", code: "LIMITER_UNAVAILABLE" });
    expect(performance.now() - started).toBeLessThan(2000);
    blocker.exec("COMMIT");
    blocker.close();
    expect(await limiter.consume("ip:x", "10/minute")).toMatchObject({ allowed: true, remaining: 9 });
    await limiter.close();
  });

  it("validates every configured spec at boot and names the setting", async () => {
    const file = path.join(await tmpProject({}, { linkKaygraph: false }), "rl.db");
    const create = () => createRateLimiter({ config: rateLimitSettings({ tiers: { gold: "lots/minute" } }), store: { kind: "sqlite", file } });
    expect(create).toThrow(expect.objectContaining({ code: "KG_CONFIG_INVALID", message: expect.stringContaining("rateLimit.tiers.gold") }));
  });

  it("fails to open with KG_STORE_UNAVAILABLE when the file cannot be created", () => {
    const create = () => createRateLimiter({ config: rateLimitSettings(), store: { kind: "sqlite", file: "/dev/null/ratelimit.db" } });
    expect(create).toThrow(expect.objectContaining({ code: "KG_STORE_UNAVAILABLE" }));
  });
});
