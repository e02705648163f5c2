import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it, onTestFinished } from "vitest";
import { generate, generatedDir } from "../../../src/codegen/generate.js";
import { KaygraphError, type LoadedGraph } from "../../../src/index.js";
import { ROOT, registryOf, sampleGraphs } from "./support.js";

/** The sample graphs, moved from ROOT to a real temp project root. */
async function project(graphs: LoadedGraph[] = sampleGraphs()) {
  const root = await mkdtemp(path.join(os.tmpdir(), "kaygraph-gen-"));
  onTestFinished(() => rm(root, { recursive: true, force: true }));
  const moved = graphs.map((g) => ({ ...g, file: path.join(root, path.relative(ROOT, g.file)) }));
  return { root, config: { root, auth: { mode: "none" as const } } as never, registry: registryOf(moved) };
}

const changedNames = (result: Awaited<ReturnType<typeof generate>>) => result.files.filter((f) => f.changed).map((f) => f.name);

describe("generate", () => {
  it("writes the three files into .kaygraph/generated, then nothing while they are current", async () => {
    const { root, config, registry } = await project();
    const first = await generate(config, registry);
    expect(first.dir).toBe(path.join(root, ".kaygraph", "generated"));
    expect(first.dir).toBe(generatedDir({ root }));
    expect(changedNames(first)).toEqual(["routes.ts", "client.ts", "openapi.json"]);
    expect((await readdir(first.dir)).sort()).toEqual(["client.ts", "openapi.json", "routes.ts"]);
    const before = await Promise.all(first.files.map((f) => stat(f.path)));

    const second = await generate(config, registry);
    expect(changedNames(second)).toEqual([]);
    const after = await Promise.all(second.files.map((f) => stat(f.path)));
    expect(after.map((s) => s.mtimeMs)).toEqual(before.map((s) => s.mtimeMs));
  });

  it("rewrites only the files whose text changed", async () => {
    const { config, registry } = await project();
    const result = await generate(config, registry);
    const openapi = result.files.find((f) => f.name === "openapi.json")!.path;
    await writeFile(openapi, "{}\n");
    expect(changedNames(await generate(config, registry))).toEqual(["openapi.json"]);
    expect(JSON.parse(await readFile(openapi, "utf8"))).toHaveProperty("openapi", "3.1.0");

    // Auth only changes the OpenAPI security; the code is the same.
    const jwt = { ...(config as object), auth: { mode: "jwt" } } as never;
    expect(changedNames(await generate(jwt, registry))).toEqual(["openapi.json"]);
    // A description is in the docs of every file.
    const described = registryOf(registry.list().map((g) => (g.name === "say-hello" ? { ...g, definition: { ...g.definition, description: "new words" } } : g)));
    expect(changedNames(await generate(jwt, described))).toEqual(["routes.ts", "client.ts", "openapi.json"]);
  });

  it("check mode writes nothing and reports what is out of date; outDir is relative to the root", async () => {
    const { root, config, registry } = await project();
    const check = await generate(config, registry, { outDir: "web/src/api", check: true });
    expect(check.dir).toBe(path.join(root, "web", "src", "api"));
    expect(changedNames(check)).toEqual(["routes.ts", "client.ts", "openapi.json"]);
    await expect(stat(check.dir)).rejects.toMatchObject({ code: "ENOENT" });
    await generate(config, registry, { outDir: "web/src/api" });
    expect(changedNames(await generate(config, registry, { outDir: "web/src/api", check: true }))).toEqual([]);
    const routes = await readFile(path.join(check.dir, "routes.ts"), "utf8");
    expect(routes).toContain('from "../../../graphs/text/word_count.js"');
  });

  it("an output directory that cannot be made is a KG_CODEGEN_FAILED error naming the file", async () => {
    const { root, config, registry } = await project();
    const blocker = path.join(root, "not-a-dir");
    await writeFile(blocker, "a file where the output directory should be\n");
    const attempt = generate(config, registry, { outDir: path.join(blocker, "generated") });
    await expect(attempt).rejects.toBeInstanceOf(KaygraphError);
    await expect(attempt).rejects.toMatchObject({ code: "KG_CODEGEN_FAILED", message: expect.stringContaining(path.join(blocker, "generated", "routes.ts")) });
  });
});
