import { clientRuntimeSource } from "./client-runtime.js";
import type { CodegenModel, GraphGroup } from "./model.js";
import { deprecatedTag, isDeprecated } from "./routes-file.js";
import { banner, docComment, propertyKey } from "./source-text.js";

/** Members of the client itself: a graph with one of these keys is reachable only as `client.graphs.<key>`. */
export const RESERVED_CLIENT_KEYS: ReadonlySet<string> = new Set(["graphs", "task", "cancel", "tasks", "subscribe", "resume", "state"]);

/**
 * client.ts: a typed fetch client with no runtime imports (types come from routes.ts with `import type`).
 * Per graph and version `run`, `submit`, `stream`, `task`, `cancel`, `resume` (its value typed by the
 * definition's `resume` schema) and `state`; `task`, `cancel`, `tasks`, `subscribe`, `resume` and `state` of any
 * task on the client.
 */
export function renderClientFile(model: CodegenModel): string {
  const types = model.entries.flatMap((e) => [`${e.type}Input`, `${e.type}Output`, `${e.type}Resume`]);
  const parts = [banner("A typed fetch client of this project's API; it has no runtime dependencies.")];
  if (types.length > 0) {
    parts.push(`import type { ${types.join(", ")} } from "./routes.js";\n`);
    parts.push(`export type { ${types.join(", ")} } from "./routes.js";\n`);
  }
  parts.push(`\n${clientRuntimeSource()}\n`);
  parts.push(graphsInterface(model.groups));
  parts.push(clientInterface(model.groups));
  parts.push(createClient(model));
  return parts.join("");
}

function graphsInterface(groups: readonly GraphGroup[]): string {
  const lines = [docComment(["Every graph of the API by name, then by version; `latest` is the highest version when this file was generated."]), "export interface Graphs {\n"];
  for (const group of groups) {
    const described = group.versions.findLast((e) => e.graph.definition.description !== undefined)?.graph.definition.description;
    lines.push(docComment([`${group.name}${described ? ` — ${described}` : ""}`], "  "));
    lines.push(`  readonly ${propertyKey(group.key)}: {\n`);
    for (const entry of group.versions) {
      const about = [`${entry.graph.name} v${entry.graph.version}: POST ${entry.routes.run}`, ...(isDeprecated(entry) ? [deprecatedTag(entry)] : [])];
      lines.push(docComment(about, "    "));
      lines.push(`    readonly v${entry.graph.version}: GraphClient<${entry.type}Input, ${entry.type}Output, ${entry.type}Resume>;\n`);
    }
    const latest = [`The highest version of ${group.name} (v${group.latest.graph.version}) when this client was generated.`];
    lines.push(docComment([...latest, ...(isDeprecated(group.latest) ? [deprecatedTag(group.latest)] : [])], "    "));
    lines.push(`    readonly latest: GraphClient<${group.latest.type}Input, ${group.latest.type}Output, ${group.latest.type}Resume>;\n`);
    lines.push("  };\n");
  }
  lines.push("}\n\n");
  return lines.join("");
}

function clientInterface(groups: readonly GraphGroup[]): string {
  const lines = [
    docComment(["The API client: task calls, every graph under `graphs`, and each graph as a shortcut (`client.hello` = `client.graphs.hello`) unless its name is taken by a client method."]),
    "export interface KaygraphClient extends TaskClient {\n",
    "  readonly graphs: Graphs;\n",
  ];
  for (const group of groups) {
    if (!RESERVED_CLIENT_KEYS.has(group.key)) lines.push(`  readonly ${propertyKey(group.key)}: Graphs[${JSON.stringify(group.key)}];\n`);
  }
  lines.push("}\n\n");
  return lines.join("");
}

function createClient(model: CodegenModel): string {
  const example = model.groups[0];
  const lines = [
    docComment([
      "Creates a client of the API at `options.baseUrl`.",
      "",
      "@example",
      'const client = createClient({ baseUrl: "http://localhost:8000", token: process.env.API_TOKEN });',
      ...(example ? [`const output = await client.graphs.${example.key}.latest.run(input);`] : []),
      "for await (const event of client.subscribe(taskId)) console.log(event.type);",
    ]),
    "export function createClient(options: ClientOptions): KaygraphClient {\n",
    "  const http = new Transport(options);\n",
  ];
  for (const entry of model.entries) {
    lines.push(`  const ${entry.value} = graphClient<${entry.type}Input, ${entry.type}Output, ${entry.type}Resume>(http, ${JSON.stringify(entry.routes.run)}, ${JSON.stringify(entry.graph.name)}, ${entry.graph.version});\n`);
  }
  lines.push("  const graphs: Graphs = {\n");
  for (const group of model.groups) {
    const versions = group.versions.map((e) => `v${e.graph.version}: ${e.value}`);
    lines.push(`    ${propertyKey(group.key)}: { ${[...versions, `latest: ${group.latest.value}`].join(", ")} },\n`);
  }
  lines.push("  };\n");
  const shortcuts = model.groups.filter((g) => !RESERVED_CLIENT_KEYS.has(g.key)).map((g) => `${propertyKey(g.key)}: graphs.${g.key}`);
  lines.push(`  return { ...taskClient(http), graphs${shortcuts.map((s) => `, ${s}`).join("")} };\n`);
  lines.push("}\n");
  return lines.join("");
}
