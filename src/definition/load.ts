import path from "node:path";
import { describeLoadError, importModule } from "../config/import-module.js";
import type { ResolvedConfig } from "../config/schema.js";
import { Errors, KaygraphError } from "../errors.js";
import { GRAPH_NAME, isDefinition } from "./define.js";
import { discoverGraphFiles } from "./discover.js";
import { GraphRegistry, type LoadedGraph } from "./registry.js";

/**
 * Finds and imports the project's graph files and returns their definitions. Every problem is an error
 * naming the file (exit code 2): a file that throws on import (with file:line), a file without a
 * definition, an invalid name, a duplicate name and version.
 *
 * @example
 * const registry = await loadGraphs(config);
 * registry.get("hello").definition;
 */
export async function loadGraphs(config: Pick<ResolvedConfig, "graphs" | "root">, options: { allowEmpty?: boolean; generation?: number } = {}): Promise<GraphRegistry> {
  const files = await discoverGraphFiles(config.graphs, config.root);
  const registry = await loadGraphFiles(files, config.root, options.generation);
  if (registry.size === 0 && !options.allowEmpty) {
    throw new KaygraphError(Errors.NoGraphs, { message: `No graph definitions found in ${config.graphs}.` });
  }
  return registry;
}

/**
 * Imports the given graph files (absolute paths) and returns their definitions, with the errors of
 * {@link loadGraphs}. A run thread loads exactly the files its process loaded. A `generation` above 0 (an
 * in-place reload of `kaygraph dev`) imports the files and the project modules under them afresh.
 *
 * @example
 * const registry = await loadGraphFiles(["/app/graphs/hello.ts"], "/app");
 */
export async function loadGraphFiles(files: readonly string[], root: string, generation = 0): Promise<GraphRegistry> {
  const registry = new GraphRegistry();
  for (const file of files) {
    for (const graph of await loadFile(file, root, generation)) registry.add(graph);
  }
  return registry;
}

async function loadFile(file: string, root: string, generation: number): Promise<LoadedGraph[]> {
  const shown = path.relative(root, file) || file;
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file, generation);
  } catch (error) {
    if (KaygraphError.is(error)) {
      // defineGraph rejected its argument while the file was imported: name the file.
      throw new KaygraphError(Errors.DefinitionInvalid, { message: `${shown}: ${error.message}`, hint: error.hint, cause: error });
    }
    throw new KaygraphError(Errors.GraphLoad, { message: `${shown}: ${describeLoadError(error, root)}`, cause: error });
  }
  const baseName = path.basename(file).replace(/\.(ts|mts|js|mjs)$/, "");
  const graphs: LoadedGraph[] = [];
  for (const [exportName, value] of Object.entries(mod)) {
    if (!isDefinition(value)) {
      if (exportName === "default") {
        throw new KaygraphError(Errors.DefinitionInvalid, {
          message: `${shown}: the default export is not a graph definition.`,
          hint: "Default-export defineGraph({...}) from each graph file; keep helper modules outside the graphs directory or prefix their names with _.",
        });
      }
      continue;
    }
    const name = value.name ?? (exportName === "default" ? baseName : exportName);
    if (!GRAPH_NAME.test(name)) {
      throw new KaygraphError(Errors.DefinitionInvalid, {
        message: `${shown}: graph name "${name}" is not URL-safe.`,
        hint: "Use letters, digits, '-' and '_' (rename the file or set name: in defineGraph).",
      });
    }
    graphs.push({ name, version: value.version ?? 1, definition: value, file, exportName, ...(generation > 0 && { generation }) });
  }
  if (graphs.length === 0) {
    throw new KaygraphError(Errors.DefinitionInvalid, {
      message: `${shown} exports no graph definition.`,
      hint: "Default-export defineGraph({...}) from each graph file; keep helper modules outside the graphs directory or prefix their names with _.",
    });
  }
  return graphs;
}
