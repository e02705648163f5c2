/**
 * Rate-limit response headers in the IETF draft's structured-field form
 * (draft-ietf-httpapi-ratelimit-headers-11, May 2026; same syntax since -08):
 *   RateLimit-Policy: "free";q=10;w=60     quota policy: q = quota units, w = window seconds
 *   RateLimit: "free";r=3;t=42             service limit: r = remaining units, t = seconds until the window resets
 * plus an integer `Retry-After` (RFC 9110 section 10.2.3) on denied requests, never earlier than `t`.
 */
import type { Decision } from "./decision.js";

/** Header name → value; set each with `res.setHeader(name, value)`. */
export type RateLimitHeaders = Record<string, string>;

/**
 * The headers of a limiter decision under `policyName` (a tier name, `"anonymous"`, a graph's own policy…).
 *
 * @example
 * rateLimitHeaders({ allowed: false, limit: 10, remaining: 0, resetSec: 42, retryAfterSec: 42, windowSec: 60 }, "free")
 * // { "RateLimit-Policy": '"free";q=10;w=60', "RateLimit": '"free";r=0;t=42', "Retry-After": "42" }
 */
export function rateLimitHeaders(decision: Decision, policyName: string): RateLimitHeaders {
  const name = sfString(policyName);
  const headers: RateLimitHeaders = {
    "RateLimit-Policy": `${name};q=${decision.limit};w=${decision.windowSec}`,
    RateLimit: `${name};r=${decision.remaining};t=${decision.resetSec}`,
  };
  if (!decision.allowed) headers["Retry-After"] = String(decision.retryAfterSec);
  return headers;
}

/** A structured-field String (RFC 9651 section 3.3.3): printable ASCII, `\` and `"` escaped. */
function sfString(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, "_");
  return `"${printable.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
