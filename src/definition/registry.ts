import path from "node:path";
import { Errors, KaygraphError } from "../errors.js";
import type { GraphDefinition } from "./define.js";

/** A definition with its resolved name and version and where it came from. */
export interface LoadedGraph {
  readonly name: string;
  readonly version: number;
  readonly definition: GraphDefinition;
  /** Absolute path of the file that exports it. */
  readonly file: string;
  /** `default` or the named export. */
  readonly exportName: string;
  /** The in-place reload that loaded it (`kaygraph dev`; left out for a process's first load). */
  readonly generation?: number;
}

/** The graphs of a project, by name and version. */
export class GraphRegistry {
  private readonly byKey = new Map<string, LoadedGraph>();

  constructor(graphs: readonly LoadedGraph[] = []) {
    for (const graph of graphs) this.add(graph);
  }

  /** Adds a graph; a second definition with the same name and version is an error naming both files. */
  add(graph: LoadedGraph): void {
    const key = `${graph.name}@${graph.version}`;
    const existing = this.byKey.get(key);
    if (existing) {
      throw new KaygraphError(Errors.DefinitionDuplicate, {
        message: `Graph "${graph.name}" version ${graph.version} is defined twice: in ${where(existing)} and in ${where(graph)}.`,
      });
    }
    // Routes match names case-insensitively (as Express does), so names must differ by more than case.
    const lower = graph.name.toLowerCase();
    const twin = [...this.byKey.values()].find((g) => g.name !== graph.name && g.name.toLowerCase() === lower);
    if (twin) {
      throw new KaygraphError(Errors.DefinitionDuplicate, {
        message: `Graphs "${twin.name}" (${where(twin)}) and "${graph.name}" (${where(graph)}) differ only in case; their routes would be the same. Rename one.`,
      });
    }
    this.byKey.set(key, graph);
  }

  /** Every graph, sorted by name then version. */
  list(): LoadedGraph[] {
    return [...this.byKey.values()].sort((a, b) => a.name.localeCompare(b.name) || a.version - b.version);
  }

  /** Number of graphs (name and version pairs). */
  get size(): number {
    return this.byKey.size;
  }

  /** The graph `name` at `version`, or its highest version when `version` is left out. */
  find(name: string, version?: number): LoadedGraph | undefined {
    if (version !== undefined) return this.byKey.get(`${name}@${version}`);
    let best: LoadedGraph | undefined;
    for (const graph of this.byKey.values()) if (graph.name === name && (!best || graph.version > best.version)) best = graph;
    return best;
  }

  /** Like {@link find}, but throws a usage error listing what exists. */
  get(name: string, version?: number): LoadedGraph {
    const found = this.find(name, version);
    if (found) return found;
    const known = this.list().map((g) => `${g.name}@${g.version}`);
    const sameName = this.list().filter((g) => g.name === name);
    const message =
      sameName.length > 0 && version !== undefined
        ? `Graph "${name}" has no version ${version}; it has ${sameName.map((g) => g.version).join(", ")}.`
        : `No graph named "${name}".`;
    throw new KaygraphError(Errors.GraphNotFound, { message, hint: known.length ? `Available: ${known.join(", ")}` : "No graphs are defined." });
  }
}

function where(graph: LoadedGraph): string {
  return `${path.relative(process.cwd(), graph.file) || graph.file} (${graph.exportName} export)`;
}

/** Parses `name` or `name@version` (as typed on the command line). */
export function parseGraphRef(ref: string): { name: string; version?: number } {
  const at = ref.lastIndexOf("@");
  if (at <= 0) return { name: ref };
  const version = Number(ref.slice(at + 1).replace(/^v/, ""));
  if (!Number.isInteger(version) || version < 1) {
    throw new KaygraphError(Errors.Usage, { message: `"${ref}" is not <graph> or <graph>@<version> (version is a whole number >= 1).` });
  }
  return { name: ref.slice(0, at), version };
}
