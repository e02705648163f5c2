// Pure parts of rate limiting: specs, caller keys, targets and the IETF draft headers.
import { describe, expect, it } from "vitest";
import { clientKey, parseRateSpec, rateLimitHeaders, rateTarget, subjectKey, type Decision } from "../../../src/security/rate-limit/index.js";
import { rateLimitSettings } from "./support/limiter-settings.js";

describe("parseRateSpec", () => {
  it.each([
    ["10/second", 10, 1],
    ["10/minute", 10, 60],
    ["100/hour", 100, 3600],
    ["5000/day", 5000, 86_400],
    [" 7 / minute ", 7, 60],
  ])("%j → %i per %i s", (text, points, durationSec) => {
    expect(parseRateSpec(text)).toMatchObject({ points, durationSec });
  });

  it("normalises the text", () => {
    expect(parseRateSpec(" 7 / minute ").text).toBe("7/minute");
  });

  it.each(["10", "10/min", "ten/minute", "10/Minute", "-1/minute", "10 per minute", "", "1.5/second"])("refuses %j, naming the format", (text) => {
    expect(() => parseRateSpec(text, "--rate-limit")).toThrow(/--rate-limit: ".*" must look like "<n>\/<second\|minute\|hour\|day>"/);
  });

  it("refuses 0 requests with a hint to turn limits off", () => {
    expect(() => parseRateSpec("0/minute")).toThrow(/at least 1 request/);
    expect(() => parseRateSpec("0/minute")).toThrow(expect.objectContaining({ code: "KG_CONFIG_INVALID" }));
  });
});

describe("clientKey", () => {
  it.each([
    ["203.0.113.9", "ip:203.0.113.9"],
    ["::ffff:203.0.113.9", "ip:203.0.113.9"],
    ["::FFFF:cb00:7109", "ip:203.0.113.9"],
    ["[::ffff:10.0.0.1]", "ip:10.0.0.1"],
    ["2001:db8:1:2:aa:bb:cc:dd", "ip:2001:db8:1:2::/64"],
    ["2001:0db8:0001:0002:ffff:ffff:ffff:ffff", "ip:2001:db8:1:2::/64"],
    ["2001:db8::1", "ip:2001:db8:0:0::/64"],
    ["fe80::1%eth0", "ip:fe80:0:0:0::/64"],
    ["::1", "ip:0:0:0:0::/64"],
    ["", "ip:unknown"],
    [undefined, "ip:unknown"],
    ["not-an-ip", "ip:unknown"],
  ])("%j → %j", (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it("puts two addresses of one /64 in one bucket and other /64s in others", () => {
    expect(clientKey("2001:db8:a:b::1")).toBe(clientKey("2001:db8:a:b:ffff::9"));
    expect(clientKey("2001:db8:a:b::1")).not.toBe(clientKey("2001:db8:a:c::1"));
  });

  it("namespaces subjects apart from IPs", () => {
    expect(subjectKey("alice")).toBe("sub:alice");
    expect(subjectKey("1.2.3.4")).not.toBe(clientKey("1.2.3.4"));
  });
});

describe("rateTarget", () => {
  const settings = rateLimitSettings({ anonymous: "100/minute" });

  it("limits anonymous callers by IP and authenticated ones by sub under their tier", () => {
    expect(rateTarget(settings, { ip: "::ffff:1.2.3.4" })).toEqual({ key: "ip:1.2.3.4", spec: "100/minute", policy: "anonymous" });
    expect(rateTarget(settings, { ip: "1.2.3.4", identity: { sub: "alice", tier: "premium" } })).toEqual({ key: "sub:alice", spec: "1000/minute", policy: "premium" });
  });

  it("sends unknown tiers to free, and to the anonymous limit when free is not configured", () => {
    expect(rateTarget(settings, { identity: { sub: "bob", tier: "platinum" } })).toEqual({ key: "sub:bob", spec: "10/minute", policy: "free" });
    expect(rateTarget(settings, { identity: { sub: "bob", tier: "constructor" } }).policy).toBe("free");
    const noFree = rateLimitSettings({ tiers: { gold: "5/second" } });
    expect(rateTarget(noFree, { identity: { sub: "bob", tier: "free" } })).toEqual({ key: "sub:bob", spec: "100/minute", policy: "anonymous" });
  });
});

describe("rateLimitHeaders (draft-ietf-httpapi-ratelimit-headers-11)", () => {
  const decision = (over: Partial<Decision>): Decision => ({ allowed: true, limit: 10, remaining: 3, resetSec: 42, retryAfterSec: 0, windowSec: 60, ...over });

  it("describes the policy and the current service limit", () => {
    expect(rateLimitHeaders(decision({}), "default")).toEqual({ "RateLimit-Policy": '"default";q=10;w=60', RateLimit: '"default";r=3;t=42' });
  });

  it("adds an integer Retry-After when denied", () => {
    expect(rateLimitHeaders(decision({ allowed: false, remaining: 0, retryAfterSec: 42 }), "free")).toEqual({
      "RateLimit-Policy": '"free";q=10;w=60',
      RateLimit: '"free";r=0;t=42',
      "Retry-After": "42",
    });
  });

  it("writes the policy name as a valid structured-field string", () => {
    expect(rateLimitHeaders(decision({}), 'we"ird\\tier\n')["RateLimit-Policy"]).toBe('"we\\"ird\\\\tier_";q=10;w=60');
  });
});
