import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { handoverListener } from "../../../src/server/handover.js";

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(listener: http.RequestListener): Promise<number> {
  const server = http.createServer(listener);
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

describe("handoverListener", () => {
  it("passes method, path, headers and body on, and streams the answer back with Connection: close", async () => {
    const seen: { method?: string; url?: string; host?: string; custom?: string; body: string } = { body: "" };
    const replacement = await listen((req, res) => {
      Object.assign(seen, { method: req.method, url: req.url, host: req.headers.host, custom: req.headers["x-custom"] });
      req.on("data", (chunk: Buffer) => (seen.body += chunk.toString()));
      req.on("end", () => {
        res.writeHead(201, { "content-type": "application/json", "set-cookie": ["a=1", "b=2"] });
        res.write('{"new":');
        setTimeout(() => res.end("true}"), 20);
      });
    });
    const retiring = await listen(handoverListener({ host: "0.0.0.0", port: replacement }));
    const res = await fetch(`http://127.0.0.1:${retiring}/api/v1/greet?x=1`, { method: "POST", headers: { "x-custom": "yes", "content-type": "application/json" }, body: '{"a":1}' });
    expect(res.status).toBe(201);
    expect(res.headers.get("connection")).toBe("close");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await res.text()).toBe('{"new":true}');
    expect(seen).toEqual({ method: "POST", url: "/api/v1/greet?x=1", host: `127.0.0.1:${retiring}`, custom: "yes", body: '{"a":1}' });
  });

  it("answers 503 with Retry-After when nothing serves the port", async () => {
    const gone = await listen(() => undefined);
    await new Promise((r) => servers.pop()?.close(r));
    const retiring = await listen(handoverListener({ host: "127.0.0.1", port: gone }));
    const res = await fetch(`http://127.0.0.1:${retiring}/health`);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { error_code: string }).error_code).toBe("UNAVAILABLE");
  });
});
