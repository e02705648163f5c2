import http from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";
import { resolveConfig } from "../../src/config/load.js";
import type { KaygraphConfig, ResolvedConfig } from "../../src/config/schema.js";
import type { GraphDefinition } from "../../src/definition/define.js";
import { GraphRegistry, type LoadedGraph } from "../../src/definition/registry.js";
import { createApp, type AppOptions } from "../../src/server/app.js";
import { createLogger } from "../../src/server/logger.js";

/** A registry from in-memory definitions: `[name, version, definition]`. */
export function registryOf(entries: Array<[string, number, GraphDefinition]>): GraphRegistry {
  return new GraphRegistry(entries.map(([name, version, definition]): LoadedGraph => ({ name, version, definition, file: `/virtual/${name}.ts`, exportName: "default" })));
}

/** Test settings: silent logs, plus `overrides`. */
export function testConfig(overrides: KaygraphConfig = {}): ResolvedConfig {
  return resolveConfig({ ...overrides, log: { level: "silent", ...overrides.log } }, "/virtual");
}

/** Serves `createApp` in-process on port 0; closed when the test ends. Returns the base URL and the app. */
export async function serveApp(registry: GraphRegistry, overrides: KaygraphConfig = {}, options: AppOptions = {}) {
  const config = testConfig(overrides);
  const app = createApp(config, registry, { logger: createLogger(config.log), ...options });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, app, server, config };
}

/** POSTs JSON and returns status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, any>) : undefined };
}
