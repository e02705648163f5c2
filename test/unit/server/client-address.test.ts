/**
 * Which address a caller is counted under, over HTTP and at a WebSocket upgrade: `X-Forwarded-For` believed
 * exactly as far as `server.trustProxy` says (Express's `req.ip` rules on both transports), IPv6 keyed by /64,
 * IPv4-mapped IPv6 unwrapped. Every check is a real request against a real listener (listen.ts).
 */
import { describe, expect, it } from "vitest";
import type { KaygraphConfig } from "../../../src/config/schema.js";
import { startTestServer, upgradeStatus } from "./ws-support.js";

type Transport = "http" | "ws";

/** A server whose anonymous limit is one call per minute: the first call per key passes, the next is refused. */
async function onePerKey(server: KaygraphConfig["server"]) {
  const s = await startTestServer({ server, rateLimit: { enabled: true, anonymous: "1/minute" } });
  let n = 0;
  /** Status of one counted call (HTTP: a graph run; WS: an upgrade), or "passed"/"limited". */
  const call = async (transport: Transport, xff?: string, base = s.base): Promise<"passed" | "limited"> => {
    const headers: Record<string, string> = xff === undefined ? {} : { "x-forwarded-for": xff };
    const status =
      transport === "http"
        ? (await fetch(`${base}/api/v1/tokens`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: "{}" })).status
        : (await upgradeStatus(`${base.replace(/^http/, "ws")}/ws/c${n++}`, { headers })).status;
    if (status === 429) return "limited";
    expect(status, `${transport} ${xff}`).toBe(transport === "http" ? 200 : 101);
    return "passed";
  };
  return { ...s, call };
}

// From the socket (127.0.0.1) outwards, proxy-addr reads a chain right to left.
const A = "198.51.100.1, 203.0.113.1";
const B = "198.51.100.1, 203.0.113.2";
const C = "198.51.100.2, 203.0.113.1";
const E = "192.0.2.9, 198.51.100.1, 203.0.113.1";

describe("client address with and without trust proxy", () => {
  it("without trust proxy a spoofed X-Forwarded-For is ignored: every call counts against the socket address, on both transports", async () => {
    const s = await onePerKey({ trustProxy: false });
    expect(await s.call("http", "198.51.100.7")).toBe("passed");
    expect(await s.call("ws", "198.51.100.8")).toBe("limited");
    expect(await s.call("http", "198.51.100.9, 203.0.113.9")).toBe("limited");
    expect(await s.call("ws")).toBe("limited");
  });

  it("trustProxy 1: the address the one trusted proxy saw (right-most entry) is the key; entries left of it are ignored", async () => {
    const s = await onePerKey({ trustProxy: 1 });
    expect(await s.call("http", A)).toBe("passed"); // 203.0.113.1
    expect(await s.call("ws", C)).toBe("limited"); // 203.0.113.1 again: a different left-most entry does not help
    expect(await s.call("ws", B)).toBe("passed"); // 203.0.113.2, although its left-most entry is A's
    expect(await s.call("http", "203.0.113.2")).toBe("limited");
    expect(await s.call("ws", "10.9.9.9, 203.0.113.2")).toBe("limited");
  });

  // Expected key per chain for each setting, worked out by hand from Express's `trust proxy` rules.
  const table: Array<[KaygraphConfig["server"], Record<string, string>]> = [
    [{ trustProxy: true }, { [A]: "198.51.100.1", [B]: "198.51.100.1", [C]: "198.51.100.2", [E]: "192.0.2.9" }],
    [{ trustProxy: 2 }, { [A]: "198.51.100.1", [B]: "198.51.100.1", [C]: "198.51.100.2", [E]: "198.51.100.1" }],
    [{ trustProxy: "loopback" }, { [A]: "203.0.113.1", [B]: "203.0.113.2", [C]: "203.0.113.1", [E]: "203.0.113.1" }],
    [{ trustProxy: "loopback, 203.0.113.0/24" }, { [A]: "198.51.100.1", [B]: "198.51.100.1", [C]: "198.51.100.2", [E]: "198.51.100.1" }],
  ];
  for (const [server, keys] of table) {
    it(`trustProxy ${JSON.stringify(server!.trustProxy)}: HTTP and WebSocket agree on the key`, async () => {
      const s = await onePerKey(server);
      const seen = new Set<string>();
      const order: Array<[Transport, string]> = [["ws", E], ["http", A], ["ws", B], ["http", C], ["ws", C], ["http", E], ["ws", A]];
      for (const [transport, chain] of order) {
        const key = keys[chain]!;
        expect(await s.call(transport, chain), `${transport} ${chain} → ${key}`).toBe(seen.has(key) ? "limited" : "passed");
        seen.add(key);
      }
    });
  }
});

describe("IPv6 keys through real requests", () => {
  it("forwarded IPv6 callers share one count per /64; IPv4-mapped addresses count as their IPv4 address", async () => {
    const s = await onePerKey({ trustProxy: 1 });
    expect(await s.call("http", "2001:db8:1:2::1")).toBe("passed");
    expect(await s.call("ws", "2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe("limited"); // same /64
    expect(await s.call("ws", "2001:db8:1:3::1")).toBe("passed"); // next /64
    expect(await s.call("http", "2001:db8:1:3:abcd::9")).toBe("limited");
    expect(await s.call("ws", "::ffff:203.0.113.9")).toBe("passed");
    expect(await s.call("http", "203.0.113.9")).toBe("limited");
    expect(await s.call("ws", "::ffff:cb00:7109")).toBe("limited"); // 203.0.113.9 in hex
  });

  it("on a dual-stack listener an IPv4 client (::ffff:127.0.0.1) is keyed as 127.0.0.1, apart from ::1", async () => {
    // Without unwrapping, ::ffff:127.0.0.1 and ::1 would share the /64 0:0:0:0::/64 and one count.
    const s = await onePerKey({ host: "::" });
    const v4 = `http://127.0.0.1:${s.port}`;
    const v6 = `http://[::1]:${s.port}`;
    expect(await s.call("http", undefined, v4)).toBe("passed");
    expect(await s.call("ws", undefined, v4)).toBe("limited");
    expect(await s.call("ws", undefined, v6)).toBe("passed");
    expect(await s.call("http", undefined, v6)).toBe("limited");
  });
});
