import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { SignJWT } from "jose";
import { loadGraphs, resolveConfig, startServer, type ServerHandle } from "kaygraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import projectConfig from "../kaygraph.config.js";

/**
 * The real HTTP API in this process, with this project's settings (auth and rate limits on), a throwaway
 * secret and throwaway databases, on a free port.
 */
const secret = randomBytes(48).toString("base64url");
let server: ServerHandle;
let stateDir: string;

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-api-test-"));
  const config = resolveConfig(
    {
      ...projectConfig,
      server: { ...projectConfig.server, host: "127.0.0.1", port: 0 },
      auth: { ...projectConfig.auth, secret },
      rateLimit: { ...projectConfig.rateLimit, database: path.join(stateDir, "ratelimit.db") },
      tasks: { ...projectConfig.tasks, database: path.join(stateDir, "kaygraph.db") },
      log: { level: "silent" },
    },
    path.resolve(import.meta.dirname, ".."),
  );
  server = await startServer(config, await loadGraphs(config));
});

afterAll(async () => {
  await server?.close(1_000);
  await rm(stateDir, { recursive: true, force: true });
});

/** A token as your identity provider would issue it (here: HS256 with the test secret). */
function token(tier: string, sub: string = randomUUID()): Promise<string> {
  return new SignJWT({ tier }).setProtectedHeader({ alg: "HS256" }).setSubject(sub).setExpirationTime("5m").sign(new TextEncoder().encode(secret));
}

async function post(route: string, body: unknown, bearer?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (bearer) headers["authorization"] = `Bearer ${bearer}`;
  const res = await fetch(`${server.url}${route}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
}

describe("the API", () => {
  it("answers /health without a token", async () => {
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it("refuses a graph route without a token", async () => {
    const res = await post("/api/v2/process", { text: "hi" });
    expect(res.status).toBe(401);
    expect(res.body["error_code"]).toBe("UNAUTHORIZED");
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("runs v2 for a caller with a token and tells the graph who called", async () => {
    const res = await post("/api/v2/process", { text: "ship it" }, await token("basic", "ada"));
    expect(res.status).toBe(200);
    expect(res.body["result"]).toMatchObject({ result: "SHIP IT", version: "2.0", metadata: { user: "ada", tier: "basic" } });
  });

  it("still serves v1, marked deprecated", async () => {
    const res = await post("/api/v1/process", { text: "ship it" }, await token("basic"));
    expect(res.status).toBe(200);
    expect(res.body["result"]).toEqual({ result: "SHIP IT", version: "1.0" });
    expect(res.headers.get("deprecation")).toBeTruthy();
  });

  it("limits the free tier to 10 calls a minute", async () => {
    const free = await token("free");
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post("/api/v2/process", { text: "x" }, free)).status);
    expect(statuses).toEqual([...Array(10).fill(200), 429]);
  });

  it("limits summarize to 5 calls a minute, even for premium callers", async () => {
    const premium = await token("premium");
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await post("/api/v1/summarize", { text: "One. Two." }, premium));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 429]);
    expect(answers[5]?.body["error_code"]).toBe("RATE_LIMITED");
    expect(Number(answers[5]?.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
