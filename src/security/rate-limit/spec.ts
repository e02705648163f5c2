/** Rate specs: `<n>/<second|minute|hour|day>` (DESIGN.md section 4). */
import { RATE_SPEC } from "../../config/schema.js";
import { Errors, KaygraphError } from "../../errors.js";

/** A parsed rate spec. */
export interface RateSpec {
  /** Requests allowed per window. */
  readonly points: number;
  /** Window length in seconds. */
  readonly durationSec: number;
  /** The spec as written, normalised (`"10/minute"`). */
  readonly text: string;
}

const WINDOW_SECONDS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400 };

/**
 * Parses `"10/minute"` into `{ points: 10, durationSec: 60, text: "10/minute" }`. Throws `KG_CONFIG_INVALID`
 * with a message naming the spec (and `where`, e.g. `"rateLimit.tiers.basic"`) when it is malformed or zero.
 *
 * @example
 * parseRateSpec("100/hour") // { points: 100, durationSec: 3600, text: "100/hour" }
 * parseRateSpec("5 per minute", "--rate-limit") // throws: --rate-limit: "5 per minute" must look like …
 */
export function parseRateSpec(spec: string, where = "rate limit"): RateSpec {
  const match = RATE_SPEC.exec(typeof spec === "string" ? spec.trim() : "");
  const fail = (why: string) => new KaygraphError(Errors.ConfigInvalid, { message: `${where}: "${String(spec)}" ${why}` });
  if (!match) throw fail('must look like "<n>/<second|minute|hour|day>", e.g. "100/minute"');
  const points = Number(match[1]);
  const unit = match[2]!;
  if (!Number.isSafeInteger(points) || points < 1) throw fail("must allow at least 1 request (turn limits off instead of setting 0)");
  return Object.freeze({ points, durationSec: WINDOW_SECONDS[unit]!, text: `${points}/${unit}` });
}
