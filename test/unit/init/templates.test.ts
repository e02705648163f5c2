import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { configSchema } from "../../../src/config/schema.js";
import { SETTINGS } from "../../../src/config/settings.js";
import { KaygraphError } from "../../../src/errors.js";
import { DEFAULT_TEMPLATE, findTemplate, templateDir, templatesRoot, TEMPLATES } from "../../../src/init/templates.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const read = (template: string, file: string) => readFileSync(path.join(templateDir(template), file), "utf8");

/** Every setting of the config schema as a dotted path (`server.port`, `ws.maxBufferedBytes`…). */
function schemaPaths(shape: Record<string, z.ZodType>, prefix = ""): string[] {
  return Object.entries(shape).flatMap(([key, schema]) => {
    let inner = schema._zod.def as { type: string; innerType?: z.ZodType; shape?: Record<string, z.ZodType> };
    // default / prefault / optional wrap the object schema of a settings group.
    while (inner.innerType) inner = inner.innerType._zod.def as typeof inner;
    return inner.type === "object" && inner.shape ? schemaPaths(inner.shape, `${prefix}${key}.`) : [`${prefix}${key}`];
  });
}

describe("template registry", () => {
  it("finds the templates in the package, one registry entry per folder", () => {
    expect(templatesRoot()).toBe(path.join(REPO, "templates"));
    const folders = readdirSync(templatesRoot(), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
    expect(TEMPLATES.map((t) => t.name).sort()).toEqual(folders.sort());
    expect(TEMPLATES.map((t) => t.name)).toEqual(["basic", "background", "streaming", "production", "human-in-the-loop"]);
    expect(DEFAULT_TEMPLATE).toBe("basic");
  });

  it("has a one-line description for each template", () => {
    for (const t of TEMPLATES) expect(t.description).toMatch(/^[^\n]{10,70}$/);
  });

  it("names an unknown template and lists the known ones", () => {
    const error = (() => {
      try {
        findTemplate("fancy");
      } catch (e) {
        return e;
      }
    })();
    expect(KaygraphError.is(error)).toBe(true);
    expect(error).toMatchObject({ code: "KG_INIT_TEMPLATE_UNKNOWN", exitCode: 2 });
    expect((error as KaygraphError).hint).toContain("basic, background, streaming, production, human-in-the-loop");
  });

  it("ships the templates in the package (files)", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("templates");
  });
});

describe.each(TEMPLATES.map((t) => t.name))("template %s", (name) => {
  it("is a complete project", () => {
    for (const file of ["README.md", "package.json", "kaygraph.config.ts", "tsconfig.json", "_gitignore", "_env.example"]) {
      expect(existsSync(path.join(templateDir(name), file)), file).toBe(true);
    }
    const graphs = readdirSync(path.join(templateDir(name), "graphs"), { recursive: true }).map(String);
    expect(graphs.some((f) => f.endsWith(".ts"))).toBe(true);
    const tests = readdirSync(path.join(templateDir(name), "test")).filter((f) => f.endsWith(".test.ts"));
    expect(tests.length).toBeGreaterThan(0);
    // npm drops or renames dotfiles when packing: they ship with a leading underscore.
    expect(readdirSync(templateDir(name)).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("has the package.json the issue asks for", () => {
    const pkg = JSON.parse(read(name, "package.json")) as Record<string, any>;
    expect(pkg.type).toBe("module");
    expect(pkg.scripts).toMatchObject({ dev: "kaygraph dev", start: "kaygraph serve", test: "vitest run", generate: "kaygraph generate" });
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["kaygraph", "zod"]);
    expect(pkg.devDependencies.vitest).toMatch(/^\^4\./);
    expect(pkg.devDependencies.typescript).toMatch(/^\^5\./);
    expect(pkg.devDependencies["@types/node"]).toMatch(/^\^20\./);
    // npm 11 runs dependency install scripts only when allowed: better-sqlite3 must compile.
    expect(pkg.allowScripts).toMatchObject({ "better-sqlite3": true, esbuild: true, "msgpackr-extract": true });
  });

  it("typechecks strictly with NodeNext and includes the generated code", () => {
    const tsconfig = JSON.parse(read(name, "tsconfig.json")) as { compilerOptions: Record<string, unknown>; include: string[] };
    expect(tsconfig.compilerOptions).toMatchObject({ strict: true, module: "NodeNext", moduleResolution: "NodeNext" });
    expect(tsconfig.include).toEqual(expect.arrayContaining(["graphs", "test", ".kaygraph/generated"]));
  });

  it("ignores local state, installs and secrets", () => {
    const ignored = read(name, "_gitignore").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["node_modules/", ".kaygraph/", ".env"]));
  });
});

describe("template production", () => {
  it("lists every setting that comes from the environment in .env.example", () => {
    const example = read("production", "_env.example");
    const listed = new Set([...example.matchAll(/^#? ?([A-Z_]+)=/gm)].map((m) => m[1]));
    const missing = SETTINGS.filter((row) => !row.env.some((env) => listed.has(env))).map((row) => `${row.path} (${row.env.join(", ")})`);
    expect(missing).toEqual([]);
    // The secret line is left empty for `kaygraph init` to fill in.
    expect(example).toMatch(/^KAYGRAPH_SECRET_KEY=$/m);
  });

  it("lists every other setting of the schema as set in kaygraph.config.ts only", () => {
    const example = read("production", "_env.example");
    const configOnly = example.slice(example.indexOf("# --- Set in kaygraph.config.ts only"));
    expect(configOnly, "the kaygraph.config.ts-only block").toMatch(/^# --- Set in kaygraph.config.ts only/);
    const named = new Set([...configOnly.matchAll(/^# ([a-z][A-Za-z]*\.[A-Za-z]+)\s+\S/gm)].map((m) => m[1]));
    const paths = schemaPaths(configSchema.shape);
    const fromEnv = new Set(SETTINGS.filter((row) => row.env.length > 0).map((row) => row.path));
    const missing = paths.filter((p) => !fromEnv.has(p) && !named.has(p));
    expect(missing, "schema settings with no env variable that .env.example does not name").toEqual([]);
    expect([...named].filter((p) => !paths.includes(p) || fromEnv.has(p)), "names in the config-only block that are not config-only settings").toEqual([]);
    // The env-backed part lists each of those rows' variables (checked above); together they cover the schema.
    expect(paths.length).toBeGreaterThan(40);
  });

  it("builds a multi-stage, non-root image that serves with one worker per CPU", () => {
    const dockerfile = read("production", "Dockerfile");
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node_modules\/\.bin\/kaygraph", "serve", "--workers", "auto"\]$/m);
    expect(read("production", "_dockerignore")).toMatch(/^\.env$/m);
  });

  it("checks readiness on the port the server listens on (KAYGRAPH_PORT, else PORT, else 8000)", async () => {
    const healthcheck = /^HEALTHCHECK .*\\\n\s*CMD (\[.*\])$/m.exec(read("production", "Dockerfile"));
    expect(healthcheck, "HEALTHCHECK … CMD [exec form]").not.toBeNull();
    const [node, ...args] = JSON.parse(healthcheck![1]!) as string[];
    expect(node).toBe("node");
    const server = createServer((req, res) => res.writeHead(req.url === "/ready" ? 200 : 404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const port = String((server.address() as AddressInfo).port);
      const check = (env: Record<string, string>) => execa(process.execPath, args, { env: { ...env, PATH: process.env.PATH }, extendEnv: false, reject: false, timeout: 10_000 });
      expect((await check({ KAYGRAPH_PORT: port })).exitCode).toBe(0);
      expect((await check({ PORT: port })).exitCode).toBe(0);
      // KAYGRAPH_PORT wins over PORT, as in `kaygraph serve`; nothing listens on port 1.
      expect((await check({ KAYGRAPH_PORT: "1", PORT: port })).exitCode).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("turns auth and rate limits on and gives one graph its own limit", () => {
    expect(read("production", "kaygraph.config.ts")).toMatch(/auth: \{ mode: "jwt" \}/);
    expect(read("production", "graphs/summarize.ts")).toMatch(/rateLimit: "5\/minute"/);
    expect(read("production", "graphs/process/v1.ts")).toMatch(/version: 1,/);
    expect(read("production", "graphs/process/v2.ts")).toMatch(/version: 2,/);
  });
});
