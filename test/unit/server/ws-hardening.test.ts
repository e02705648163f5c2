import http from "node:http";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { LimitedMessage } from "../../../src/server/ws/index.js";
import { aborted, metricValue, openSocket, startTestServer, until } from "./ws-support.js";

/** The HTTP answer to an upgrade the server refuses before the handshake. */
function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on("open", () => reject(new Error("the handshake succeeded")));
    ws.on("error", () => undefined);
    ws.on("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as Record<string, unknown> }));
    });
  });
}

describe("WS upgrade", () => {
  it("answers an unknown path or a bad client id with HTTP 404 (JSON error) before any handshake", async () => {
    const { wsBase } = await startTestServer();
    for (const path of ["/nope", "/ws", "/ws/", "/ws/a/b", `/ws/${"x".repeat(129)}`, "/ws/bad%20id"]) {
      const refused = await refusedUpgrade(`${wsBase}${path}`, { "x-request-id": "up-1" });
      expect(refused.status, path).toBe(404);
      expect(refused.body).toMatchObject({ error_code: "NOT_FOUND", request_id: "up-1" });
      expect(refused.headers["x-request-id"]).toBe("up-1");
    }
  });

  it("echoes X-Request-ID in the handshake answer", async () => {
    const { wsBase } = await startTestServer();
    const ws = new WebSocket(`${wsBase}/ws/c?x=1`, { headers: { "x-request-id": "hs-1" } });
    const headers = await new Promise<http.IncomingHttpHeaders>((resolve) => ws.on("upgrade", (res) => resolve(res.headers)));
    expect(headers["x-request-id"]).toBe("hs-1");
    ws.terminate();
  });

  it("authenticate hook: a refusal with a status is that HTTP answer (headers kept); the identity keys the cap and reaches the limit hook", async () => {
    const seen: Array<[string | undefined, string, LimitedMessage["type"]]> = [];
    const server = await startTestServer(
      { ws: { maxConnectionsPerClient: 1 } },
      {
        webSockets: {
          async authenticate(req) {
            const token = req.headers.authorization;
            if (token === undefined) throw Object.assign(new Error("Authentication required: send Authorization: Bearer <token>"), { status: 401, errorCode: "UNAUTHORIZED", wwwAuthenticate: "Bearer" });
            if (token === "boom") throw new Error("verifier crashed");
            return { sub: token, tier: "free", claims: { sub: token } };
          },
          async onMessageLimit(identity, ip, message) {
            seen.push([identity?.sub, ip, message.type]);
            if (message.type === "run" && message.graph.name === "short") return false;
            if (message.type === "subscribe") throw Object.assign(new Error("Rate limit exceeded"), { status: 429, headers: { "Retry-After": "7" } });
            return true;
          },
        },
      },
    );
    const missing = await refusedUpgrade(`${server.wsBase}/ws/c`);
    expect(missing.status).toBe(401);
    expect(missing.headers["www-authenticate"]).toBe("Bearer");
    expect(missing.body).toMatchObject({ error_code: "UNAUTHORIZED", error: expect.stringContaining("Bearer") });
    const crashed = await refusedUpgrade(`${server.wsBase}/ws/c`, { authorization: "boom" });
    expect(crashed.status).toBe(500);
    expect(JSON.stringify(crashed.body)).not.toContain("verifier crashed");

    const alice = await openSocket(`${server.wsBase}/ws/shared`, { headers: { authorization: "alice" } });
    // Another subject may use the same client id: the cap (1) counts per subject and client id.
    const bob = await openSocket(`${server.wsBase}/ws/shared`, { headers: { authorization: "bob" } });
    const alice2 = await openSocket(`${server.wsBase}/ws/shared`, { headers: { authorization: "alice" } });
    expect((await alice2.closed).code).toBe(1008);
    alice.send({ type: "run", id: "ok", graph: "tokens", input: { n: 1 } });
    expect((await alice.operation("ok")).at(-1)).toMatchObject({ type: "result" });
    alice.send({ type: "run", id: "limited", graph: "short", input: {} });
    expect(await alice.next((m) => m.id === "limited")).toMatchObject({ type: "error", error_code: "RATE_LIMITED" });
    bob.send({ type: "subscribe", id: "sub", task_id: "t" });
    expect(await bob.next((m) => m.id === "sub")).toMatchObject({ type: "error", error_code: "RATE_LIMITED", details: { retry_after: 7 } });
    expect(seen).toEqual([
      ["alice", "127.0.0.1", "run"],
      ["alice", "127.0.0.1", "run"],
      ["bob", "127.0.0.1", "subscribe"],
    ]);
  });
});

describe("WS hardening", () => {
  it("a message over ws.maxMessageBytes closes the socket with 1009", async () => {
    const { wsBase } = await startTestServer({ ws: { maxMessageBytes: 1024 } });
    const socket = await openSocket(`${wsBase}/ws/big`);
    socket.send({ type: "ping", id: "small" });
    await socket.next((m) => m.type === "pong");
    socket.send({ type: "run", id: "big", graph: "tokens", input: { tag: "x".repeat(2_000) } });
    expect((await socket.closed).code).toBe(1009);
  });

  it("terminates a peer that stops answering pings (within two heartbeats)", async () => {
    const server = await startTestServer({ ws: { heartbeatMs: 50 } });
    const alive = await openSocket(`${server.wsBase}/ws/alive`);
    const dead = await openSocket(`${server.wsBase}/ws/dead`, { autoPong: false });
    dead.send({ type: "run", id: "r", graph: "tokens", input: { tag: "dead-peer", waitMs: 10_000 } });
    await dead.next((m) => m.type === "node_start");
    const started = Date.now();
    expect((await dead.closed).code).toBe(1006);
    expect(Date.now() - started).toBeLessThan(2_000);
    await until(() => aborted.has("dead-peer"), "the dead peer's run to be aborted");
    expect(await metricValue(server, "kaygraph_ws_server_closes_total", { code: "1006" })).toBe(1);
    // A peer that answers pings stays.
    alive.send({ type: "ping", id: "still" });
    expect(await alive.next((m) => m.type === "pong")).toEqual({ type: "pong", id: "still" });
  });

  it("a message flood over ws.messagesPerSecond closes the socket with 1008", async () => {
    const { wsBase } = await startTestServer({ ws: { messagesPerSecond: 5 } });
    const socket = await openSocket(`${wsBase}/ws/flood`);
    for (let i = 0; i < 20; i++) socket.send({ type: "ping", id: `p${i}` });
    const closed = await socket.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/rate limit/);
    expect(socket.messages.filter((m) => m.type === "pong").length).toBeLessThanOrEqual(5);
  });

  it("a slow consumer (more than ws.maxBufferedBytes waiting) is closed with 1013 and its run aborted; memory stays bounded", async () => {
    const server = await startTestServer({ ws: { maxBufferedBytes: 64 * 1024 } });
    const socket = await openSocket(`${server.wsBase}/ws/slow`);
    socket.ws.pause();
    socket.send({ type: "run", id: "r", graph: "tokens", input: { tag: "slow", floodBytes: 8_000 } });
    await until(async () => (await metricValue(server, "kaygraph_ws_server_closes_total", { code: "1013" })) === 1, "the server to give up on the reader");
    expect(await metricValue(server, "kaygraph_ws_buffered_bytes")).toBeLessThan(64 * 1024 + 16 * 1024);
    await until(() => aborted.has("slow"), "the run to be aborted");
    socket.ws.resume();
    expect((await socket.closed).code).toBe(1013);
  });

  it("caps open sockets per client id (close 1008 over the cap); a freed slot can be used again", async () => {
    const server = await startTestServer({ ws: { maxConnectionsPerClient: 2 } });
    const a = await openSocket(`${server.wsBase}/ws/capped`);
    await openSocket(`${server.wsBase}/ws/capped`);
    const third = await openSocket(`${server.wsBase}/ws/capped`);
    const closed = await third.closed;
    expect(closed).toMatchObject({ code: 1008, reason: expect.stringContaining("too many connections") });
    const other = await openSocket(`${server.wsBase}/ws/other`);
    other.send({ type: "ping", id: "p" });
    await other.next((m) => m.type === "pong");
    a.ws.close();
    await a.closed;
    await until(async () => (await metricValue(server, "kaygraph_ws_connections")) === 2, "the slot to be freed");
    const again = await openSocket(`${server.wsBase}/ws/capped`);
    again.send({ type: "ping", id: "p" });
    expect(await again.next((m) => m.type === "pong")).toEqual({ type: "pong", id: "p" });
  });

  it("graceful shutdown: idle sockets close with 1001 at once; a socket with a run gets its result first; no new work", async () => {
    const server = await startTestServer();
    const idle = await openSocket(`${server.wsBase}/ws/idle`);
    const busy = await openSocket(`${server.wsBase}/ws/busy`);
    busy.send({ type: "run", id: "r", graph: "tokens", input: { n: 2, waitMs: 400 } });
    await busy.next((m) => m.type === "node_start");
    const closing = server.close(10_000);
    expect((await idle.closed).code).toBe(1001);
    busy.send({ type: "run", id: "late", graph: "tokens", input: {} });
    expect(await busy.next((m) => m.id === "late")).toMatchObject({ type: "error", error_code: "UNAVAILABLE" });
    expect((await busy.operation("r")).at(-1)).toMatchObject({ type: "result", result: { count: 2 } });
    expect((await busy.closed).code).toBe(1001);
    await closing;
  });

  it("at the shutdown deadline, sockets with runs still going are closed with 1001 too", async () => {
    const server = await startTestServer();
    const busy = await openSocket(`${server.wsBase}/ws/stuck`);
    busy.send({ type: "run", id: "r", graph: "tokens", input: { tag: "stuck", waitMs: 30_000 } });
    await busy.next((m) => m.type === "node_start");
    const started = Date.now();
    await server.close(300);
    expect((await busy.closed).code).toBe(1001);
    expect(Date.now() - started).toBeLessThan(5_000);
    await until(() => aborted.has("stuck"), "the run to be aborted");
  });
});
