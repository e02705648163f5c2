/**
 * A warm standby's rehearsal (dev): before it knows the project's new code, the standby runs the load path
 * once on a throwaway project in a temp folder, so that a reload pays only for the project itself. What it
 * warms: tsx's first compile, kaygraph's package entry and zod as a graph imports them (through the
 * TypeScript loader: the project's `import "kaygraph"` then finds them loaded, when it uses this copy of
 * kaygraph), the settings loader, SQLite and the task store's code, and the app with one request through it
 * (routing, validation, the run service, the log line, the response): the first request after a reload is
 * then no slower than the next.
 */
import http from "node:http";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../config/load.js";
import { forgetImportedFiles } from "../config/import-module.js";
import { loadGraphs } from "../definition/load.js";
import { createApp } from "../server/app.js";
import { createLogger } from "../server/logger.js";
import { StoreHealth, openWatchedTaskStore } from "../tasks/index.js";

/** A graph like a user's, importing kaygraph's entry and zod by the URLs a project using this copy gets. */
const graphSource = () => `import { Graph, Node, defineGraph } from ${JSON.stringify(import.meta.resolve("../index.js"))};
import { z } from ${JSON.stringify(import.meta.resolve("zod"))};
class Rehearse extends Node { post(shared: { output?: unknown }) { shared.output = { ok: true }; } }
export default defineGraph({ name: "rehearse", input: z.object({}), output: z.object({ ok: z.boolean() }), graph: () => new Graph(new Rehearse()) });
`;

/**
 * Loads a throwaway project the way a worker loads the real one (nothing listens, nothing is kept), then
 * removes it. Never fails: whatever goes wrong here is for the real load to report.
 */
export async function rehearseLoad(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "kaygraph-standby-"));
  try {
    mkdirSync(path.join(dir, "graphs"));
    writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }\n');
    writeFileSync(path.join(dir, "graphs", "rehearse.ts"), graphSource());
    const { config } = await loadConfig({ cwd: dir, env: {}, flags: { "--log-level": "silent" } });
    const registry = await loadGraphs(config);
    const logger = createLogger(config.log);
    const tasks = await openWatchedTaskStore(config, { health: new StoreHealth(), mode: "create" });
    try {
      await rehearseRequest(createApp(config, registry, { logger, tasks }));
    } finally {
      await tasks.close();
    }
  } catch {
    // The real load reports its own errors.
  } finally {
    // Only the project's own modules are what `dev` watches.
    forgetImportedFiles();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One run of the rehearsal graph through the app, over loopback. The listener is the standby's own
 * (`exclusive`): the cluster's shared port is never involved.
 */
async function rehearseRequest(app: http.RequestListener): Promise<void> {
  const server = http.createServer(app);
  server.listen({ port: 0, host: "127.0.0.1", exclusive: true });
  try {
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const body = "{}";
      // Bounded: a rehearsal that never answers must not keep the standby from being used (errors are ignored).
      const request = http.request({ host: "127.0.0.1", port, method: "POST", path: "/api/v1/rehearse", agent: false, signal: AbortSignal.timeout(5_000), headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" } }, (res) => {
        res.resume();
        res.on("end", resolve);
        res.on("error", reject);
      });
      request.on("error", reject);
      request.end(body);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
