// `rateLimit` settings as the config schema resolves them.
import type { RateLimitSettings } from "../../../../src/security/rate-limit/index.js";

/** Rate-limit settings with the schema's defaults plus `overrides`. */
export function rateLimitSettings(overrides: Partial<RateLimitSettings> = {}): RateLimitSettings {
  return {
    enabled: true,
    anonymous: "100/minute",
    tiers: { free: "10/minute", basic: "100/minute", premium: "1000/minute" },
    failOpen: false,
    ...overrides,
  };
}
