import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TOKEN_EXPIRED } from "../../../src/server/ws/index.js";
import { SECRET, bytes, now, sign } from "../security/support/jwt-keys.js";
import { openSocket, startTestServer } from "./ws-support.js";

const auth = { mode: "jwt" as const, secret: SECRET };
const token = (claims: Record<string, unknown> = {}) => sign("HS256", bytes(SECRET), { claims: { sub: "alice", tier: "free", exp: now() + 600, ...claims } });

/** The HTTP status a refused upgrade answers with. */
function upgradeStatus(url: string, options: WebSocket.ClientOptions = {}): Promise<{ status: number; challenge: string | undefined }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0, challenge: res.headers["www-authenticate"] as string | undefined });
      ws.terminate();
    });
    ws.once("open", () => {
      ws.close();
      resolve({ status: 101, challenge: undefined });
    });
    ws.once("error", (e) => (e.message.includes("Unexpected server response") ? undefined : reject(e)));
  });
}

describe("WebSocket auth and limits", () => {
  it("a missing or bad token gets HTTP 401 before any handshake; the three token forms are accepted", async () => {
    const s = await startTestServer({ auth });
    expect(await upgradeStatus(`${s.wsBase}/ws/c1`)).toEqual({ status: 401, challenge: "Bearer" });
    expect(await upgradeStatus(`${s.wsBase}/ws/c1?token=garbage`)).toEqual({ status: 401, challenge: 'Bearer error="invalid_token"' });
    const expired = await token({ exp: now() - 3600 });
    expect((await upgradeStatus(`${s.wsBase}/ws/c1`, { headers: { authorization: `Bearer ${expired}` } })).status).toBe(401);
    const good = await token();
    expect((await upgradeStatus(`${s.wsBase}/ws/c1`, { headers: { authorization: `Bearer ${good}` } })).status).toBe(101);
    expect((await upgradeStatus(`${s.wsBase}/ws/c1?token=${good}`)).status).toBe(101);
    const ws = new WebSocket(`${s.wsBase}/ws/c1`, ["bearer", good]);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    expect(ws.protocol).toBe("bearer");
    ws.close();
  });

  it("closes with 4401 when the token expires mid-connection", async () => {
    const s = await startTestServer({ auth });
    const soon = await token({ exp: now() + 2 });
    const socket = await openSocket(`${s.wsBase}/ws/c2`, { headers: { authorization: `Bearer ${soon}` } });
    const closed = await socket.closed;
    expect(closed.code).toBe(TOKEN_EXPIRED);
    expect(closed.reason).toBe("token expired");
  });

  it("connections and run messages count against the caller's limit", async () => {
    const s = await startTestServer({ auth, rateLimit: { enabled: true, tiers: { free: "3/minute" } } });
    const good = await token({ sub: "limited" });
    const socket = await openSocket(`${s.wsBase}/ws/c3`, { headers: { authorization: `Bearer ${good}` } }); // 1
    socket.send({ type: "run", id: "r1", graph: "tokens", input: { n: 1 } }); // 2
    expect((await socket.operation("r1")).at(-1)!.type).toBe("result");
    socket.send({ type: "run", id: "r2", graph: "tokens", input: { n: 1 } }); // 3
    expect((await socket.operation("r2")).at(-1)!.type).toBe("result");
    socket.send({ type: "run", id: "r3", graph: "tokens", input: { n: 1 } }); // 4: refused, socket stays open
    const refused = await socket.next((m) => m.id === "r3");
    expect(refused).toMatchObject({ type: "error", error_code: "RATE_LIMITED" });
    expect((await upgradeStatus(`${s.wsBase}/ws/c3b`, { headers: { authorization: `Bearer ${good}` } })).status).toBe(429);
    socket.send({ type: "ping", id: "p" });
    expect(await socket.next((m) => m.id === "p")).toMatchObject({ type: "pong" });
  });
});
