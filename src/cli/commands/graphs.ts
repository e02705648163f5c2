import path from "node:path";
import { Command } from "commander";
import { loadProject } from "../project.js";

interface GraphsFlags {
  json?: boolean;
  mermaid?: string;
}

/** `kaygraph graphs`: the project's graphs, versions and routes; `--mermaid` draws one. */
export function graphsCommand(): Command {
  return new Command("graphs")
    .description("list graphs, versions and their HTTP routes")
    .option("--json", "print JSON for machines")
    .option("--mermaid <graph>", "print <graph>[@version] as a Mermaid flowchart")
    .option("--graphs <dir|glob>", "graph definition files")
    .action(async (flags: GraphsFlags, command: Command) => {
      const { config } = await loadProject(command);
      const [{ loadGraphs }, { parseGraphRef }, { routesOf }] = await Promise.all([
        import("../../definition/load.js"),
        import("../../definition/registry.js"),
        import("../../definition/routes.js"),
      ]);
      const registry = await loadGraphs(config);
      if (flags.mermaid !== undefined) {
        const { name, version } = parseGraphRef(flags.mermaid);
        const graph = registry.get(name, version);
        const { toMermaid } = await import("../../graph/mermaid.js");
        const def = graph.definition.graph;
        const instance = typeof def === "function" ? await (def as () => unknown)() : def;
        process.stdout.write(toMermaid(instance as Parameters<typeof toMermaid>[0]));
        return;
      }
      const rows = registry.list().map((g) => ({
        name: g.name,
        version: g.version,
        description: g.definition.description ?? "",
        deprecated: g.definition.deprecated === true || g.definition.sunset !== undefined,
        tags: g.definition.tags ?? [],
        file: path.relative(config.root, g.file),
        routes: routesOf(g),
        // Durable runs: whether the graph declares a resume schema (it interrupts), and checkpoints per node.
        resume: g.definition.resume !== undefined,
        checkpoint: g.definition.checkpoint !== false,
      }));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const table = [["GRAPH", "VERSION", "ROUTE", "DESCRIPTION"], ...rows.map((r) => [r.name, `v${r.version}`, `POST ${r.routes.run} (+/async, /stream)`, `${r.deprecated ? "[deprecated] " : ""}${r.resume ? "[resumable] " : ""}${r.description}`])];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      process.stdout.write(`${table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n")}\n`);
    });
}
