import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

describe("kaygraph graphs", () => {
  it("lists graphs, versions, routes and descriptions; --json for machines", async () => {
    const cwd = await tmpProject(basicProject());
    const table = await runCli(["graphs"], { cwd });
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/echo\s+v1\s+POST \/api\/v1\/echo .*Echoes its input/);
    expect(table.stdout).toMatch(/loop\s+v2\s+POST \/api\/v2\/loop/);
    const json = JSON.parse((await runCli(["graphs", "--json"], { cwd })).stdout) as Array<{ name: string; version: number; routes: Record<string, string> }>;
    expect(json.map((g) => `${g.name}@${g.version}`)).toEqual(["echo@1", "loop@2"]);
    expect(json[1]!.routes).toEqual({ run: "/api/v2/loop", async: "/api/v2/loop/async", stream: "/api/v2/loop/stream" });
  });

  it("--mermaid draws a branching loop", async () => {
    const cwd = await tmpProject(basicProject());
    const r = await runCli(["graphs", "--mermaid", "loop"], { cwd });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("flowchart TD");
    expect(r.stdout).toContain('n0["check"]');
    expect(r.stdout).toContain('n0 -- "again" --> n0');
    expect(r.stdout).toContain('n0 -- "stop" --> n1');
    expect(r.stdout).toContain('n1 -- "done" --> end_marker');
  });

  it("--graphs takes a glob", async () => {
    const cwd = await tmpProject(basicProject({ "more/x/extra.ts": 'export { default } from "../../graphs/echo.ts";\n', "more/x/notes.md": "not a graph" }));
    const r = await runCli(["graphs", "--json", "--graphs", "more/**/*.ts"], { cwd });
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as Array<{ name: string }>).map((g) => g.name)).toEqual(["extra"]);
  });
});

describe("kaygraph config", () => {
  it("shows every setting with its source, file < env < flag, and .env loading", async () => {
    const cwd = await tmpProject(
      basicProject({
        "kaygraph.config.ts": 'import { defineConfig } from "kaygraph";\nexport default defineConfig({ server: { port: 7000, host: "127.0.0.9" }, log: { level: "warn" }, tasks: { concurrency: 2 } });\n',
        ".env": "KAYGRAPH_SECRET_KEY=super-secret-value-that-is-long-enough\nKAYGRAPH_LOG_LEVEL=debug\n",
      }),
    );
    const r = await runCli(["config", "--json", "--port", "0"], { cwd, env: { KAYGRAPH_HOST: "127.0.0.5" } });
    expect(r.exitCode).toBe(0);
    const { settings } = JSON.parse(r.stdout) as { settings: Record<string, { value: unknown; source: string }> };
    expect(settings["server.port"]).toEqual({ value: 0, source: "flag --port" });
    expect(settings["server.host"]).toEqual({ value: "127.0.0.5", source: "env KAYGRAPH_HOST" });
    expect(settings["log.level"]).toEqual({ value: "debug", source: ".env KAYGRAPH_LOG_LEVEL" });
    expect(settings["tasks.concurrency"]).toEqual({ value: 2, source: "kaygraph.config.ts" });
    expect(settings["auth.secret"]).toEqual({ value: "(redacted)", source: ".env KAYGRAPH_SECRET_KEY" });
    expect(settings["server.bodyLimit"]).toEqual({ value: "1mb", source: "default" });
    expect(r.stdout).not.toContain("super-secret-value");
    const text = await runCli(["config"], { cwd, env: { PORT: "7001" } });
    expect(text.stdout).toMatch(/server\.port\s+7001\s+env PORT/);
  });

  it("an invalid setting names the setting, the bad value's source and what is allowed; exit 2", async () => {
    const cwd = await tmpProject(basicProject({ "kaygraph.config.json": { workers: "many" } }));
    const r = await runCli(["config", "--port", "99999"], { cwd, env: { KAYGRAPH_LOG_FORMAT: "xml" } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("KG_CONFIG_INVALID");
    expect(r.stderr).toMatch(/server\.port: .* got 99999 \(from flag --port\)/);
    expect(r.stderr).toMatch(/log\.format: .*"json".*"pretty".* got "xml" \(from env KAYGRAPH_LOG_FORMAT\)/);
    expect(r.stderr).toMatch(/workers: .* got "many" \(from kaygraph\.config\.json\)/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
