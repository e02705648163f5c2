import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Graph, Node, defineGraph } from "../../../src/index.js";
import { createGuard } from "../../../src/server/guard.js";
import { createLogger } from "../../../src/server/logger.js";
import { createTaskStore } from "../../../src/tasks/index.js";
import { postJson, registryOf, serveApp, testConfig } from "../../helpers/app-server.js";
import { until } from "../../helpers/load.js";
import { SECRET, bytes, now, rsaKeys, sign } from "../security/support/jwt-keys.js";

class WhoAmI extends Node {
  override post(shared: { output?: unknown }) {
    const user = this.context.user as { sub: string; tier: string } | undefined;
    shared.output = { sub: user?.sub ?? "anonymous", tier: user?.tier ?? "none" };
  }
}
const who = defineGraph({ input: z.object({}), output: z.object({ sub: z.string(), tier: z.string() }), graph: () => new Graph(new WhoAmI()) });
const open = defineGraph({ input: z.object({}), output: z.object({ sub: z.string(), tier: z.string() }), graph: () => new Graph(new WhoAmI()), public: true });
const registry = registryOf([
  ["whoami", 1, who],
  ["open", 1, open],
]);

const auth = { mode: "jwt" as const, secret: SECRET, issuer: "kaygraph-tests", audience: "api" };

async function secured(overrides: Parameters<typeof testConfig>[0] = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-auth-"));
  const config = testConfig({ auth, ...overrides, tasks: { database: path.join(dir, "tasks.db") }, rateLimit: { database: path.join(dir, "rl.db"), ...overrides.rateLimit } });
  const guard = await createGuard(config, createLogger(config.log));
  const tasks = await createTaskStore(config);
  const served = await serveApp(registry, { auth, ...overrides, tasks: { database: path.join(dir, "tasks.db") }, rateLimit: { database: path.join(dir, "rl.db"), ...overrides.rateLimit } }, { guard, tasks });
  return { ...served, close: async () => { await tasks.close(); await guard.close(); } };
}

const good = (claims: Record<string, unknown> = {}) => sign("HS256", bytes(SECRET), { claims: { sub: "alice", tier: "basic", iss: "kaygraph-tests", aud: "api", exp: now() + 600, ...claims } });

describe("JWT auth over HTTP", () => {
  it("rejects forged tokens with 401 UNAUTHORIZED and the right WWW-Authenticate; a valid one passes", async () => {
    const s = await secured();
    const rsa = rsaKeys();
    const cases: Array<[string, string | undefined, string]> = [
      ["no token", undefined, "Bearer"],
      ["garbage", "not.a.jwt", 'Bearer error="invalid_token"'],
      ["bad signature", await sign("HS256", bytes(`${SECRET}-other`), { claims: { sub: "a", exp: now() + 60, iss: "kaygraph-tests", aud: "api" } }), 'Bearer error="invalid_token"'],
      ["alg none", `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${Buffer.from(JSON.stringify({ sub: "a", exp: now() + 60 })).toString("base64url")}.`, 'Bearer error="invalid_token"'],
      ["HS256 signed with an RSA public key", await sign("HS256", bytes(rsa.pem), { claims: { sub: "a", exp: now() + 60, iss: "kaygraph-tests", aud: "api" } }), 'Bearer error="invalid_token"'],
      ["expired", await good({ exp: now() - 3600 }), 'Bearer error="invalid_token"'],
      ["nbf in the future", await good({ nbf: now() + 3600 }), 'Bearer error="invalid_token"'],
      ["missing sub", await good({ sub: undefined }), 'Bearer error="invalid_token"'],
      ["missing exp", await good({ exp: undefined }), 'Bearer error="invalid_token"'],
      ["wrong iss", await good({ iss: "someone-else" }), 'Bearer error="invalid_token"'],
      ["wrong aud", await good({ aud: "other" }), 'Bearer error="invalid_token"'],
      ["kid with path characters", await sign("HS256", bytes(SECRET), { header: { kid: "../../etc/passwd" }, claims: { sub: "a", exp: now() + 60, iss: "kaygraph-tests", aud: "api" } }), 'Bearer error="invalid_token"'],
    ];
    for (const [name, token, challenge] of cases) {
      const r = await postJson(`${s.base}/api/v1/whoami`, {}, token === undefined ? {} : { authorization: `Bearer ${token}` });
      expect(r.status, name).toBe(401);
      expect(r.body!.error_code, name).toBe("UNAUTHORIZED");
      expect(r.headers.get("www-authenticate"), name).toBe(challenge);
      expect(JSON.stringify(r.body), name).not.toContain(token ?? "§");
    }
    const ok = await postJson(`${s.base}/api/v1/whoami`, {}, { authorization: `Bearer ${await good()}` });
    expect(ok.status).toBe(200);
    expect(ok.body!.result).toEqual({ sub: "alice", tier: "basic" });
    await s.close();
  });

  it("serves /health, /ready, /docs, /openapi.json and public graphs without a token; /metrics needs one by default", async () => {
    const s = await secured();
    for (const p of ["/health", "/ready", "/docs", "/openapi.json", "/docs/init.js"]) expect((await fetch(`${s.base}${p}`)).status, p).toBe(200);
    const pub = await postJson(`${s.base}/api/v1/open`, {});
    expect(pub.status).toBe(200);
    expect(pub.body!.result).toEqual({ sub: "anonymous", tier: "none" });
    // The same route spelled as Express also matches it (case, a trailing slash) is public too.
    expect((await postJson(`${s.base}/api/v1/Open/`, {})).status).toBe(200);
    expect((await fetch(`${s.base}/metrics`)).status).toBe(401);
    expect((await fetch(`${s.base}/metrics`, { headers: { authorization: `Bearer ${await good()}` } })).status).toBe(200);
    await s.close();
    const pm = await secured({ server: { publicMetrics: true } });
    expect((await fetch(`${pm.base}/metrics`)).status).toBe(200);
    await pm.close();
  });

  it("a task is visible only to the subject that created it", async () => {
    const s = await secured();
    const alice = { authorization: `Bearer ${await good({ sub: "alice" })}` };
    const bob = { authorization: `Bearer ${await good({ sub: "bob" })}` };
    const created = await postJson(`${s.base}/api/v1/whoami/async`, {}, alice);
    expect(created.status).toBe(202);
    const id = created.body!.task_id as string;
    expect((await fetch(`${s.base}/tasks/${id}`, { headers: alice })).status).toBe(200);
    const hidden = await fetch(`${s.base}/tasks/${id}`, { headers: bob });
    expect(hidden.status).toBe(404);
    expect((await fetch(`${s.base}/tasks/${id}`, { method: "DELETE", headers: bob })).status).toBe(404);
    expect((await fetch(`${s.base}/tasks/${id}/events`, { headers: bob })).status).toBe(404);
    const bobList = (await (await fetch(`${s.base}/tasks`, { headers: bob })).json()) as { tasks: unknown[] };
    expect(bobList.tasks).toEqual([]);
    const aliceList = (await (await fetch(`${s.base}/tasks`, { headers: alice })).json()) as { tasks: Array<{ id: string; owner: string }> };
    expect(aliceList.tasks.map((t) => t.id)).toEqual([id]);
    expect(aliceList.tasks[0]!.owner).toBe("alice");
    await s.close();
  });
});

describe("rate limits over HTTP", () => {
  it("limits anonymous callers by IP with RateLimit headers, and 429 with an integer Retry-After", async () => {
    const s = await secured({ auth: { mode: "none" }, rateLimit: { enabled: true, anonymous: "3/minute" } });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${s.base}/api/v1/whoami`, { method: "POST" });
      statuses.push(last.status);
      if (i === 0) {
        expect(last.headers.get("ratelimit-policy")).toBe('"anonymous";q=3;w=60');
        expect(last.headers.get("ratelimit")).toMatch(/^"anonymous";r=2;t=\d+$/);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last!.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await last!.json()) as { error_code: string }).error_code).toBe("RATE_LIMITED");
    expect((await fetch(`${s.base}/health`)).status).toBe(200);
    await s.close();
  });

  it("limits authenticated callers by sub and tier (tiers independent), and a graph's own limit", async () => {
    const ownLimit = defineGraph({ input: z.object({}), output: z.object({ sub: z.string(), tier: z.string() }), graph: () => new Graph(new WhoAmI()), rateLimit: "1/minute" });
    const reg = registryOf([["whoami", 1, who], ["scarce", 1, ownLimit]]);
    const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-rl-"));
    const overrides = { auth, rateLimit: { enabled: true, anonymous: "100/minute", tiers: { free: "2/minute", basic: "3/minute" }, database: path.join(dir, "rl.db") } };
    const config = testConfig(overrides);
    const guard = await createGuard(config, createLogger(config.log));
    const s = await serveApp(reg, overrides, { guard });
    const call = async (token: string, graph = "whoami") => (await fetch(`${s.base}/api/v1/${graph}`, { method: "POST", headers: { authorization: `Bearer ${token}` } })).status;
    const free = await good({ sub: "f", tier: "free" });
    const basic = await good({ sub: "b", tier: "basic" });
    const unknown = await good({ sub: "u", tier: "platinum" });
    expect([await call(free), await call(free), await call(free)]).toEqual([200, 200, 429]);
    expect([await call(basic), await call(basic), await call(basic), await call(basic)]).toEqual([200, 200, 200, 429]);
    expect([await call(unknown), await call(unknown), await call(unknown)]).toEqual([200, 200, 429]);
    expect([await call(basic, "scarce"), await call(basic, "scarce")]).toEqual([200, 429]);
    // The route is found case-insensitively with or without a trailing slash, and so is its own limit.
    const other = await good({ sub: "o", tier: "basic" });
    expect([await call(other, "scarce"), await call(other, "Scarce/"), await call(other, "SCARCE")]).toEqual([200, 429, 429]);
    await guard.close();
  });

  it("failed auth attempts count against the IP", async () => {
    const s = await secured({ rateLimit: { enabled: true, anonymous: "2/minute" } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${s.base}/api/v1/whoami`, { method: "POST", headers: { authorization: "Bearer nope" } })).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
    const limited = await fetch(`${s.base}/api/v1/whoami`, { method: "POST", headers: { authorization: "Bearer nope" } });
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error_code: string }).error_code).toBe("RATE_LIMITED");
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(limited.headers.get("ratelimit-policy")).toBe('"anonymous";q=2;w=60');
    expect(limited.headers.get("ratelimit")).toMatch(/^"anonymous";r=0;t=\d+$/);
    await s.close();
  });
});

describe("tokens in logs", () => {
  it("a ?token= query parameter is redacted from request log lines, on public and protected routes", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", format: "json" }, { destination: { write: (line: string) => void lines.push(line) } });
    const guard = await createGuard(testConfig({ auth }), logger);
    const served = await serveApp(registry, { auth }, { guard, logger });
    const token = await good();
    const bad = "not.a.valid-token-value";
    expect((await fetch(`${served.base}/health?token=${token}`)).status).toBe(200);
    expect((await fetch(`${served.base}/api/v1/whoami?a=1&token=${bad}&b=2`, { method: "POST" })).status).toBe(401);
    expect((await fetch(`${served.base}/metrics?TOKEN=${bad}`)).status).toBe(401);
    await until(() => lines.length >= 3, "three request log lines");
    const logged = lines.join("");
    expect(logged).not.toContain(token);
    expect(logged).not.toContain(bad);
    const urls = lines.map((line) => (JSON.parse(line) as { url: string }).url);
    expect(urls).toEqual(["/health?token=[redacted]", "/api/v1/whoami?a=1&token=[redacted]&b=2", "/metrics?TOKEN=[redacted]"]);
    await guard.close();
  });
});
