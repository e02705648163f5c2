import path from "node:path";
import type { GraphRegistry, LoadedGraph } from "../definition/registry.js";
import { routesOf, type GraphRoutes } from "../definition/routes.js";
import { assertDistinctNames, camelName, compareCodeUnits } from "./names.js";
import { sortedGraphs, typeName } from "./openapi.js";

/** One graph version as the generators see it: its generated names and where its module is. */
export interface GraphEntry {
  readonly graph: LoadedGraph;
  /** `HelloWorldV1`: prefix of the `Input`/`Output` types. */
  readonly type: string;
  /** `helloWorldV1`: the handler export (routes.ts) and client variable (client.ts). */
  readonly value: string;
  /** `helloWorldV1Definition`: the imported definition in routes.ts. */
  readonly binding: string;
  /** The definition file relative to the project root, with `/` separators (`graphs/hello.ts`). */
  readonly file: string;
  readonly routes: GraphRoutes;
}

/** Every version of one graph name. */
export interface GraphGroup {
  readonly name: string;
  /** `helloWorld`: the graph's key on the client and the handler map. */
  readonly key: string;
  /** Ascending by version. */
  readonly versions: readonly GraphEntry[];
  /** The highest version. */
  readonly latest: GraphEntry;
}

/** One `import` statement of routes.ts: a definition module and the definitions taken from it. */
export interface DefinitionImport {
  /** Relative specifier with a `.js`-family extension (`../../graphs/hello.js`). */
  readonly specifier: string;
  readonly bindings: ReadonlyArray<{ readonly exportName: string; readonly local: string }>;
}

/** What routes.ts and client.ts are generated from; ordered the same way on every machine. */
export interface CodegenModel {
  readonly entries: readonly GraphEntry[];
  readonly groups: readonly GraphGroup[];
  readonly imports: readonly DefinitionImport[];
}

/**
 * Builds the generators' model of a registry: sorted graphs with their generated names, grouped by name,
 * and the definition imports as seen from `outDir`.
 *
 * @example
 * const model = buildModel(registry, { root: "/app", outDir: "/app/.kaygraph/generated" });
 * model.groups[0].latest.type; // "HelloV2"
 */
export function buildModel(registry: GraphRegistry, where: { root: string; outDir: string }): CodegenModel {
  const graphs = sortedGraphs(registry);
  assertDistinctNames(graphs.map((g) => g.name));
  const entries = graphs.map((graph): GraphEntry => {
    const type = typeName(graph);
    const value = `${camelName(graph.name)}V${graph.version}`;
    return { graph, type, value, binding: `${value}Definition`, file: toPosix(path.relative(where.root, graph.file)), routes: routesOf(graph) };
  });
  const groups: GraphGroup[] = [];
  for (const entry of entries) {
    const last = groups.at(-1);
    if (last?.name === entry.graph.name) groups[groups.length - 1] = { ...last, versions: [...last.versions, entry], latest: entry };
    else groups.push({ name: entry.graph.name, key: camelName(entry.graph.name), versions: [entry], latest: entry });
  }
  return { entries, groups, imports: definitionImports(entries, where.outDir) };
}

function definitionImports(entries: readonly GraphEntry[], outDir: string): DefinitionImport[] {
  const byFile = new Map<string, Array<{ exportName: string; local: string }>>();
  for (const entry of entries) {
    const bindings = byFile.get(entry.graph.file) ?? [];
    bindings.push({ exportName: entry.graph.exportName, local: entry.binding });
    byFile.set(entry.graph.file, bindings);
  }
  return [...byFile.entries()]
    .map(([file, bindings]) => ({
      specifier: importSpecifier(outDir, file),
      bindings: bindings.sort((a, b) => (a.exportName === "default" ? -1 : b.exportName === "default" ? 1 : compareCodeUnits(a.exportName, b.exportName))),
    }))
    .sort((a, b) => compareCodeUnits(a.specifier, b.specifier));
}

/**
 * The specifier that imports `file` from a module in `fromDir`: relative, `/`-separated, with the emitted
 * extension (`.ts` → `.js`, `.mts` → `.mjs`), which TypeScript (NodeNext and Bundler) and tsx map back to
 * the source file.
 */
export function importSpecifier(fromDir: string, file: string): string {
  const relative = toPosix(path.relative(fromDir, file)).replace(/\.(m|c)?ts$/, (_, m: string | undefined) => `.${m ?? ""}js`);
  return relative.startsWith("../") ? relative : `./${relative}`;
}

function toPosix(p: string): string {
  return p.split(path.sep).join("/");
}
