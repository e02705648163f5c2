/**
 * A warm standby's rehearsal (dev): before it knows the project's new code, the standby runs the load path
 * once on a throwaway project in a temp folder, so that a reload pays only for the project itself. What it
 * warms: tsx's first compile, kaygraph's package entry and zod as a graph imports them (through the
 * TypeScript loader: the project's `import "kaygraph"` then finds them loaded, when it uses this copy of
 * kaygraph), the settings loader, SQLite and the task store's code, and the app's routes.
 */
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
      createApp(config, registry, { logger, tasks });
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
