/**
 * Keys that identify a caller to the limiter, namespaced by kind (`ip:…`, `sub:…`) so an IP can never collide
 * with a subject. IPv6 callers are keyed by their /64 prefix: one subscriber usually owns a whole /64, so a
 * per-address key would let them rotate through 2^64 fresh limits.
 */
import { isIP } from "node:net";

/** Key of callers whose address is missing or unparsable: they share one bucket rather than escape limits. */
export const UNKNOWN_CLIENT_KEY = "ip:unknown";

/**
 * The limiter key of a client IP: IPv4 as is, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) unwrapped to IPv4,
 * other IPv6 masked to /64. Brackets and zone ids (`%eth0`) are ignored.
 *
 * @example
 * clientKey("::ffff:203.0.113.9")      // "ip:203.0.113.9"
 * clientKey("2001:db8:1:2:aa:bb:cc:dd") // "ip:2001:db8:1:2::/64"
 */
export function clientKey(ip: string | undefined): string {
  const address = (ip ?? "").trim().replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const family = isIP(address);
  if (family === 4) return `ip:${address}`;
  if (family !== 6) return UNKNOWN_CLIENT_KEY;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `ip:${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `ip:${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/**
 * The limiter key of an authenticated subject.
 *
 * @example
 * subjectKey("alice") // "sub:alice"
 */
export function subjectKey(sub: string): string {
  return `sub:${sub}`;
}

/** The 8 groups of a valid IPv6 address (the WHATWG URL parser canonicalises `::` and dotted tails). */
function ipv6Groups(address: string): number[] {
  const canonical = new URL(`http://[${address}]`).hostname.slice(1, -1);
  const [head = "", tail] = canonical.split("::");
  const parse = (part: string) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  if (tail === undefined) return parse(head);
  const left = parse(head);
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}
