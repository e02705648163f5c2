import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { describeSource } from "../../../src/config/layers.js";
import { loadConfig } from "../../../src/config/load.js";
import { KaygraphError } from "../../../src/errors.js";

const dirs: string[] = [];
async function project(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-config-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const sourceText = (loaded: Awaited<ReturnType<typeof loadConfig>>, key: string) => describeSource(loaded.settings.get(key)!.source);

describe("loadConfig", () => {
  it("uses built-in defaults with no file, env or flags", async () => {
    const cwd = await project({});
    const { config, settings } = await loadConfig({ cwd, env: {} });
    expect(config.server).toMatchObject({ host: "0.0.0.0", port: 8000, bodyLimit: "1mb", shutdownTimeout: 30 });
    expect(config.graphs).toBe(path.join(cwd, "graphs"));
    expect(config.tasks.database).toBe(path.join(cwd, ".kaygraph", "kaygraph.db"));
    expect(config.rateLimit).toMatchObject({ enabled: false, anonymous: "100/minute", tiers: { free: "10/minute", basic: "100/minute", premium: "1000/minute" } });
    expect(describeSource(settings.get("server.port")!.source)).toBe("default");
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
  });

  it("layers defaults < command defaults < file < .env < env < flags, and reports each source", async () => {
    const cwd = await project({
      "kaygraph.config.json": JSON.stringify({ server: { port: 7000, host: "127.0.0.2", shutdownTimeout: 5 }, log: { level: "warn" } }),
      ".env": "KAYGRAPH_HOST=10.0.0.1\nKAYGRAPH_LOG_LEVEL=debug\nKAYGRAPH_SECRET_KEY=from-dotenv\n",
    });
    const loaded = await loadConfig({
      cwd,
      env: { PORT: "7100", KAYGRAPH_LOG_LEVEL: "error" },
      flags: { "--port": "0" },
      commandDefaults: { name: "dev", values: { server: { host: "127.0.0.1", port: 3000 }, log: { format: "pretty" } } },
    });
    const { config } = loaded;
    expect(config.server.port).toBe(0);
    expect(sourceText(loaded, "server.port")).toBe("flag --port");
    expect(config.server.host).toBe("10.0.0.1");
    expect(sourceText(loaded, "server.host")).toBe(".env KAYGRAPH_HOST");
    expect(config.log.level).toBe("error");
    expect(sourceText(loaded, "log.level")).toBe("env KAYGRAPH_LOG_LEVEL");
    expect(config.log.format).toBe("pretty");
    expect(sourceText(loaded, "log.format")).toBe("dev default");
    expect(config.server.shutdownTimeout).toBe(5);
    expect(sourceText(loaded, "server.shutdownTimeout")).toBe("kaygraph.config.json");
    expect(config.auth.secret).toBe("from-dotenv");
    expect(loaded.dotenv).toMatchObject({ KAYGRAPH_SECRET_KEY: "from-dotenv" });
  });

  it("the real environment wins over .env", async () => {
    const cwd = await project({ ".env": "KAYGRAPH_PORT=1111\n" });
    const loaded = await loadConfig({ cwd, env: { KAYGRAPH_PORT: "2222" } });
    expect(loaded.config.server.port).toBe(2222);
    expect(loaded.dotenv).toEqual({});
  });

  it("loads a TypeScript config file and resolves relative paths against its folder", async () => {
    const cwd = await project({
      "kaygraph.config.ts": `const port: number = 9123;\nexport default { graphs: "src/graphs", server: { port }, tasks: { database: "data/tasks.db" } };\n`,
    });
    const { config } = await loadConfig({ cwd, env: {} });
    expect(config.server.port).toBe(9123);
    expect(config.graphs).toBe(path.join(cwd, "src/graphs"));
    expect(config.tasks.database).toBe(path.join(cwd, "data/tasks.db"));
    expect(config.configFile).toBe(path.join(cwd, "kaygraph.config.ts"));
  });

  it("--rate-limit off|<spec> switches limits and sets the anonymous limit", async () => {
    const cwd = await project({ "kaygraph.config.json": JSON.stringify({ rateLimit: { enabled: true } }) });
    expect((await loadConfig({ cwd, env: {}, flags: { "--rate-limit": "off" } })).config.rateLimit.enabled).toBe(false);
    const on = await loadConfig({ cwd, env: { KAYGRAPH_RATE_LIMIT: "5/second" } });
    expect(on.config.rateLimit).toMatchObject({ enabled: true, anonymous: "5/second" });
  });

  it("lists every invalid setting with its source and what is allowed", async () => {
    const cwd = await project({ "kaygraph.config.json": JSON.stringify({ server: { port: 70000, bogus: 1 }, workers: 0 }) });
    const error = await loadConfig({ cwd, env: { KAYGRAPH_LOG_LEVEL: "loud", KAYGRAPH_RATE_LIMIT: "lots" }, flags: { "--workers": "two" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KaygraphError);
    const text = (error as KaygraphError).message;
    expect((error as KaygraphError).exitCode).toBe(2);
    expect(text).toMatch(/server\.port: .*65535.*got 70000 \(from kaygraph\.config\.json\)/);
    expect(text).toMatch(/server\.bogus: is not a kaygraph setting.*\(from kaygraph\.config\.json\)/);
    expect(text).toMatch(/workers: .*got "two" \(from flag --workers\)/);
    expect(text).toMatch(/log\.level: .*"fatal".*got "loud" \(from env KAYGRAPH_LOG_LEVEL\)/);
    expect(text).toMatch(/rateLimit\.anonymous: must look like.*got "lots" \(from env KAYGRAPH_RATE_LIMIT\)/);
  });

  it("an unknown key names its source and suggests a close known key", async () => {
    const cwd = await project({ "kaygraph.config.json": JSON.stringify({ sever: { port: 1 }, server: { prot: 3 }, ratelimit: true, zzzzzz: 1 }) });
    const error = (await loadConfig({ cwd, env: {} }).catch((e: unknown) => e)) as KaygraphError;
    expect(error).toBeInstanceOf(KaygraphError);
    const lines = error.message.split("\n");
    expect(lines).toContain("sever: is not a kaygraph setting (from kaygraph.config.json); did you mean server?");
    expect(lines).toContain("server.prot: is not a kaygraph setting, got 3 (from kaygraph.config.json); did you mean server.port?");
    expect(lines).toContain("ratelimit: is not a kaygraph setting, got true (from kaygraph.config.json); did you mean rateLimit?");
    expect(lines).toContain("zzzzzz: is not a kaygraph setting, got 1 (from kaygraph.config.json)");
  });

  it("never prints a secret's value in errors", async () => {
    const cwd = await project({ "kaygraph.config.json": JSON.stringify({ redis: { url: "http://user:hunter2@host" } }) });
    const error = (await loadConfig({ cwd, env: {} }).catch((e: unknown) => e)) as KaygraphError;
    expect(error.message).toContain("redis.url");
    expect(error.message).not.toContain("hunter2");
  });

  it("explains a config file that fails to load, and a missing --config file", async () => {
    const cwd = await project({ "kaygraph.config.ts": `throw new Error("config exploded");\n`, "package.json": `{"type":"module"}` });
    const error = (await loadConfig({ cwd, env: {} }).catch((e: unknown) => e)) as KaygraphError;
    expect(error.code).toBe("KG_CONFIG_LOAD");
    expect(error.message).toContain("config exploded");
    expect(error.message).toContain("kaygraph.config.ts:1");
    const missing = (await loadConfig({ cwd, env: {}, configFile: "nope.json" }).catch((e: unknown) => e)) as KaygraphError;
    expect(missing.code).toBe("KG_CONFIG_LOAD");
    expect(missing.exitCode).toBe(2);
  });
});
