/** The limiter facade: one rate-limiter-flexible limiter per distinct spec, on a shared counter store. */
import { RateLimiterRes } from "rate-limiter-flexible";
import type { ResolvedConfig } from "../../config/schema.js";
import { LimiterUnavailableError, type Decision } from "./decision.js";
import { clusterStore, type ClusterStoreOptions } from "./cluster-store.js";
import { openSqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
import { redisStore, type RedisStoreOptions } from "./redis-store.js";
import { parseRateSpec, type RateSpec } from "./spec.js";
import type { LimiterStore, SpecLimiter } from "./store.js";

/** The `rateLimit` settings. */
export type RateLimitSettings = Omit<ResolvedConfig["rateLimit"], "database">;

/** Where counters live: a SQLite file (one machine, all workers) or Redis (many machines). */
export type LimiterStoreOptions = SqliteStoreOptions | RedisStoreOptions | ClusterStoreOptions;

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  /** The `rateLimit` settings; every spec in them is validated here, at boot. */
  config: RateLimitSettings;
  store: LimiterStoreOptions;
  /** Background errors (pruning of expired SQLite counters). Default: `process.emitWarning`. */
  onError?: (error: unknown) => void;
}

/** A live limiter shared by every request of one process. */
export interface RateLimiter {
  /**
   * Counts one request of `key` against `spec` and answers whether it may proceed. Counts are exact across
   * processes. Rejects with {@link LimiterUnavailableError} when the store cannot answer.
   */
  consume(key: string, spec: string | RateSpec): Promise<Decision>;
  /** The settings' `failOpen`: what the HTTP layer does on {@link LimiterUnavailableError}. */
  readonly failOpen: boolean;
  /** Which store counts. */
  readonly storeKind: LimiterStore["kind"];
  /** A cheap health check of the counter store (none for the cluster store); rejects when it is down. */
  probe(): Promise<void>;
  /** Closes what the limiter opened (the SQLite file); a caller's Redis client stays open. */
  close(): Promise<void>;
}

/**
 * Creates the limiter on a SQLite file or a Redis client.
 *
 * @example
 * const limiter = createRateLimiter({ config: config.rateLimit, store: { kind: "sqlite", file: ".kaygraph/ratelimit.db" } });
 * const decision = await limiter.consume(clientKey(req.ip), config.rateLimit.anonymous);
 * for (const [name, value] of Object.entries(rateLimitHeaders(decision, "anonymous"))) res.setHeader(name, value);
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const configured = [parseRateSpec(options.config.anonymous, "rateLimit.anonymous")];
  for (const [tier, spec] of Object.entries(options.config.tiers)) configured.push(parseRateSpec(spec, `rateLimit.tiers.${tier}`));

  const onError = options.onError ?? ((error: unknown) => process.emitWarning(error instanceof Error ? error : String(error), { code: "KG_RATE_LIMIT_STORE" }));
  const store: LimiterStore =
    options.store.kind === "sqlite" ? openSqliteStore(options.store, onError) : options.store.kind === "cluster" ? clusterStore(options.store) : redisStore(options.store);
  const specs = new Map<string, RateSpec>();
  const limiters = new Map<string, SpecLimiter>();

  const limiterFor = (spec: RateSpec): SpecLimiter => {
    // Distinct specs count under distinct prefixes, so "10/minute" and "100/minute" never share a counter.
    const id = `${spec.points}:${spec.durationSec}`;
    let limiter = limiters.get(id);
    if (!limiter) limiters.set(id, (limiter = store.create(spec, `rl:${id}`)));
    return limiter;
  };
  const specOf = (spec: string | RateSpec): RateSpec => {
    if (typeof spec !== "string") return spec;
    let parsed = specs.get(spec);
    if (!parsed) specs.set(spec, (parsed = parseRateSpec(spec)));
    return parsed;
  };
  configured.forEach(limiterFor);

  return {
    failOpen: options.config.failOpen,
    storeKind: store.kind,
    async consume(key, spec) {
      const parsed = specOf(spec);
      try {
        return decide(true, await limiterFor(parsed).consume(key, 1), parsed);
      } catch (outcome) {
        if (outcome instanceof RateLimiterRes) return decide(false, outcome, parsed);
        throw new LimiterUnavailableError(store.kind, outcome);
      }
    },
    probe: async () => await store.probe?.(),
    close: () => store.close(),
  };
}

function decide(allowed: boolean, res: RateLimiterRes, spec: RateSpec): Decision {
  const resetSec = Math.max(0, Math.ceil(res.msBeforeNext / 1000));
  return Object.freeze({
    allowed,
    limit: spec.points,
    remaining: allowed ? res.remainingPoints : 0,
    resetSec,
    retryAfterSec: allowed ? 0 : Math.max(1, resetSec),
    windowSec: spec.durationSec,
  });
}
