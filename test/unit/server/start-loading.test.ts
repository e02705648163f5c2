import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { startServer } from "../../../src/server/listen.js";
import { testConfig } from "../../helpers/app-server.js";
import { streamRegistry } from "./ws-support.js";

/** Settings whose stores live in a fresh folder (or, with `storeDir`, in that one). */
async function settings(storeDir?: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-loading-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const stores = storeDir ?? dir;
  return testConfig({ server: { host: "127.0.0.1", port: 0 }, execution: "inline", tasks: { database: path.join(stores, "kg.db") }, rateLimit: { database: path.join(dir, "rl.db") } });
}

describe("startServer with a registry still loading (a reloading worker)", () => {
  it("opens the stores meanwhile and serves the graphs once they are loaded", async () => {
    let loaded!: (registry: ReturnType<typeof streamRegistry>) => void;
    const loading = new Promise<ReturnType<typeof streamRegistry>>((resolve) => (loaded = resolve));
    const starting = startServer(await settings(), loading);
    setImmediate(() => loaded(streamRegistry()));
    const handle = await starting;
    onTestFinished(() => handle.close(200));
    const res = await fetch(`http://127.0.0.1:${handle.port}/api/v1/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 2 }) });
    expect(res.status).toBe(200);
    expect(handle.registrySize).toBe(3);
  });

  it("a load that fails is the error thrown, even when a store cannot open either", async () => {
    const broken = new Error("graphs/answer.ts: syntax error");
    // A task database "inside" a plain file: the store fails to open too.
    const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-loading-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(path.join(dir, "not-a-folder"), "");
    const config = await settings(path.join(dir, "not-a-folder"));
    await expect(startServer(config, streamRegistry())).rejects.toThrow(/Cannot open the task store/);
    await expect(startServer(config, Promise.reject(broken))).rejects.toBe(broken);
    await expect(startServer(await settings(), Promise.reject(broken))).rejects.toBe(broken);
  });
});
