/** Which counter and limit apply to a caller (DESIGN.md section 5). */
import { clientKey, subjectKey } from "./client-key.js";
import type { RateLimitSettings } from "./limiter.js";

/** The key, spec and policy name a request is counted under. */
export interface RateTarget {
  /** Limiter key: `sub:<sub>` or `ip:<address or /64>`. */
  key: string;
  /** The rate spec text, e.g. `"10/minute"`. */
  spec: string;
  /** Policy name for the RateLimit headers: the tier, or `"anonymous"`. */
  policy: string;
}

/** Policy name of callers without a token. */
export const ANONYMOUS_POLICY = "anonymous";

/** Tier used for callers whose tier is not configured. */
export const FALLBACK_TIER = "free";

/**
 * Authenticated callers count by `sub` under their tier's limit (unknown tier → `free`; when `free` is not
 * configured either, the anonymous limit); anonymous callers by client IP under `rateLimit.anonymous`.
 *
 * @example
 * rateTarget(config.rateLimit, { ip: req.ip, identity }) // { key: "sub:alice", spec: "10/minute", policy: "free" }
 */
export function rateTarget(settings: RateLimitSettings, caller: { ip?: string | undefined; identity?: { sub: string; tier: string } | undefined }): RateTarget {
  const { identity } = caller;
  if (!identity) return { key: clientKey(caller.ip), spec: settings.anonymous, policy: ANONYMOUS_POLICY };
  const tier = Object.hasOwn(settings.tiers, identity.tier) ? identity.tier : FALLBACK_TIER;
  const spec = settings.tiers[tier];
  if (spec === undefined) return { key: subjectKey(identity.sub), spec: settings.anonymous, policy: ANONYMOUS_POLICY };
  return { key: subjectKey(identity.sub), spec, policy: tier };
}
