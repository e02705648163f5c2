import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TOKEN_EXPIRED } from "../../../src/server/ws/index.js";
import { SECRET, bytes, now, sign } from "../security/support/jwt-keys.js";
import { openSocket, startTestServer, upgradeStatus } from "./ws-support.js";

const auth = { mode: "jwt" as const, secret: SECRET };
const token = (claims: Record<string, unknown> = {}) => sign("HS256", bytes(SECRET), { claims: { sub: "alice", tier: "free", exp: now() + 600, ...claims } });

describe("WebSocket auth and limits", () => {
  it("a missing or bad token gets HTTP 401 before any handshake; the three token forms are accepted", async () => {
    const s = await startTestServer({ auth });
    expect(await upgradeStatus(`${s.wsBase}/ws/c1`)).toMatchObject({ status: 401, challenge: "Bearer" });
    expect(await upgradeStatus(`${s.wsBase}/ws/c1?token=garbage`)).toMatchObject({ status: 401, challenge: 'Bearer error="invalid_token"' });
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

  it("failed upgrades count against the address: past the limit the answer is 429 with Retry-After, not 401", async () => {
    const s = await startTestServer({ auth, rateLimit: { enabled: true, anonymous: "2/minute" } });
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await upgradeStatus(`${s.wsBase}/ws/f${i}?token=garbage`));
    expect(answers.map((a) => a.status)).toEqual([401, 401, 429, 429]);
    const limited = answers[3]!.headers;
    expect(limited["retry-after"]).toMatch(/^\d+$/);
    expect(limited["ratelimit-policy"]).toBe('"anonymous";q=2;w=60');
    expect(limited["ratelimit"]).toMatch(/^"anonymous";r=0;t=\d+$/);
    // The same address over HTTP is over the limit too.
    expect((await fetch(`${s.base}/api/v1/tokens`, { method: "POST", headers: { authorization: "Bearer garbage" } })).status).toBe(429);
  });

  it("subscribe to another user's task answers NOT_FOUND; the owner's subscription gets the result", async () => {
    const s = await startTestServer({ auth });
    const alice = `Bearer ${await token({ sub: "alice" })}`;
    const created = await fetch(`${s.base}/api/v1/tokens/async`, { method: "POST", headers: { authorization: alice, "content-type": "application/json" }, body: JSON.stringify({ n: 2 }) });
    expect(created.status).toBe(202);
    const { task_id: taskId } = (await created.json()) as { task_id: string };
    const bob = await openSocket(`${s.wsBase}/ws/bob`, { headers: { authorization: `Bearer ${await token({ sub: "bob" })}` } });
    bob.send({ type: "subscribe", id: "peek", task_id: taskId });
    expect(await bob.next((m) => m.id === "peek")).toMatchObject({ type: "error", error_code: "NOT_FOUND" });
    expect(bob.messages.filter((m) => m.id === "peek")).toHaveLength(1);
    const owner = await openSocket(`${s.wsBase}/ws/alice`, { headers: { authorization: alice } });
    owner.send({ type: "subscribe", id: "mine", task_id: taskId });
    expect((await owner.operation("mine")).at(-1)).toMatchObject({ type: "result", result: { count: 2 } });
  });
});
