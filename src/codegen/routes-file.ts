import type { CodegenModel, GraphEntry } from "./model.js";
import { banner, docComment, propertyKey, quote } from "./source-text.js";

/** The types of routes.ts: the same in every project. */
const TYPES = `/** What an in-process handler takes besides its input (all optional). */
export type HandlerContext = Pick<RunDefinitionOptions, "requestId" | "user" | "signal" | "timeoutMs" | "onEvent" | "from" | "resume">;

/** Runs one graph version in this process: validates the input, runs the graph, returns the validated output. */
export type Handler<Input, Output> = (input: Input, ctx?: HandlerContext) => Promise<Output>;

/** One HTTP route of a graph version (\`kind\`: sync run, background task, or SSE stream). */
export interface RouteEntry {
  readonly method: "POST";
  readonly path: string;
  readonly kind: "run" | "async" | "stream";
  readonly graph: string;
  readonly version: number;
  readonly definition: GraphDefinition;
}
`;

/** The helpers that build handlers (emitted when there is at least one graph). */
const HELPERS = `
function loaded<I extends Schema, O extends Schema>(definition: GraphDefinition<I, O>, name: string, version: number, file: string, exportName: string): LoadedGraph {
  // A definition is typed by its own schemas; the runner takes definitions of any schema.
  return { name, version, definition: definition as unknown as GraphDefinition, file, exportName };
}

function handler<I extends Schema, O extends Schema>(_definition: GraphDefinition<I, O>, graph: LoadedGraph): Handler<z.input<I>, z.output<O>> {
  return async (input, ctx = {}) => {
    const timeoutMs = ctx.timeoutMs ?? graph.definition.timeoutMs;
    const output = await runDefinition(graph, input, timeoutMs === undefined ? ctx : { ...ctx, timeoutMs });
    // runDefinition validated it against the definition's output schema.
    return output as z.output<O>;
  };
}
`;

/**
 * routes.ts: per graph version the `Input`/`Output` types inferred from the definition's zod schemas, a typed
 * in-process handler on `runDefinition`, a `handlers` map by graph and version, and the `routes` table.
 */
export function renderRoutesFile(model: CodegenModel): string {
  const parts = [banner("Typed in-process handlers and the route table of this project's graphs.")];
  const empty = model.entries.length === 0;
  if (empty) parts.push(`import type { GraphDefinition, RunDefinitionOptions } from "kaygraph";\n`);
  else parts.push(`import { runDefinition, type GraphDefinition, type LoadedGraph, type RunDefinitionOptions, type Schema } from "kaygraph";\nimport type { z } from "zod";\n`);
  for (const { specifier, bindings } of model.imports) {
    const fallback = bindings.find((b) => b.exportName === "default");
    const named = bindings.filter((b) => b.exportName !== "default").map((b) => `${propertyKey(b.exportName)} as ${b.local}`);
    const clause = [fallback?.local, named.length ? `{ ${named.join(", ")} }` : undefined].filter(Boolean).join(", ");
    parts.push(`import ${clause} from ${quote(specifier)};\n`);
  }
  parts.push(`\n${TYPES}${empty ? "" : HELPERS}`);
  for (const entry of model.entries) parts.push(`\n${graphSection(entry)}`);
  parts.push(`\n${docComment(["Every handler by graph and version; `latest` is the highest version when this file was generated."])}`);
  parts.push(`export const handlers = {\n`);
  for (const group of model.groups) {
    const versions = group.versions.map((e) => `v${e.graph.version}: ${e.value}`);
    parts.push(`  ${propertyKey(group.key)}: { ${[...versions, `latest: ${group.latest.value}`].join(", ")} },\n`);
  }
  parts.push(`} as const;\n`);
  parts.push(`\n${docComment(["The HTTP routes of every graph version (DESIGN: `POST /api/v{V}/{G}`, `/async`, `/stream`)."])}`);
  parts.push(`export const routes: readonly RouteEntry[] = [\n`);
  for (const entry of model.entries) {
    const { name, version } = entry.graph;
    for (const kind of ["run", "async", "stream"] as const) {
      parts.push(`  { method: "POST", path: ${quote(entry.routes[kind])}, kind: ${quote(kind)}, graph: ${quote(name)}, version: ${version}, definition: ${entry.value}Graph.definition },\n`);
    }
  }
  parts.push(`];\n`);
  return parts.join("");
}

function graphSection(entry: GraphEntry): string {
  const { name, version, definition, exportName } = entry.graph;
  const title = `${name} v${version} — POST ${entry.routes.run}`;
  const about = [definition.description ?? `Runs ${name} v${version}.`, "", "Runs in this process (no HTTP); rejects with a `DefinitionRunError` (`code`: VALIDATION_ERROR, GRAPH_ERROR, TIMEOUT…)."];
  return [
    `// #region ${title}\n`,
    docComment([`Input of ${name} v${version}: what a caller sends (before defaults and transforms).`]),
    `export type ${entry.type}Input = z.input<typeof ${entry.binding}.input>;\n`,
    docComment([`Output of ${name} v${version}, validated.`]),
    `export type ${entry.type}Output = z.output<typeof ${entry.binding}.output>;\n`,
    docComment([`Resume value of ${name} v${version} (POST /tasks/{id}/resume)${definition.resume ? ", checked by its `resume` schema" : ": any JSON (the definition has no `resume` schema)"}.`]),
    `export type ${entry.type}Resume = ${definition.resume ? `z.input<NonNullable<typeof ${entry.binding}.resume>>` : "unknown"};\n`,
    `const ${entry.value}Graph = loaded(${entry.binding}, ${quote(name)}, ${version}, ${quote(entry.file)}, ${quote(exportName)});\n`,
    docComment([...about, ...(isDeprecated(entry) ? [deprecatedTag(entry)] : [])]),
    `export const ${entry.value}: Handler<${entry.type}Input, ${entry.type}Output> = handler(${entry.binding}, ${entry.value}Graph);\n`,
    `// #endregion\n`,
  ].join("");
}

/** True when the definition is deprecated or has a sunset date. */
export function isDeprecated(entry: GraphEntry): boolean {
  return entry.graph.definition.deprecated === true || entry.graph.definition.sunset !== undefined;
}

/** The `@deprecated` JSDoc tag of a deprecated graph version. */
export function deprecatedTag(entry: GraphEntry): string {
  const sunset = entry.graph.definition.sunset;
  return `@deprecated ${entry.graph.name} v${entry.graph.version} is deprecated${sunset ? ` (sunset ${sunset})` : ""}.`;
}
