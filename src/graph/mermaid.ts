/**
 * Draws a graph as a Mermaid `flowchart` by walking its nodes and edges: labelled edges for actions, loops
 * as back edges, nested graphs as subgraphs, explicit ends as an end marker. Works on graphs built with any
 * copy of the runtime (it reads only `startNode`, `successors` and `nodeId`).
 */

interface NodeShape {
  nodeId?: string;
  successors?: Map<string, NodeShape | null>;
  startNode?: NodeShape;
}

/** Options of {@link toMermaid}. */
export interface MermaidOptions {
  /** Flow direction (default `TD`). */
  direction?: "TD" | "LR";
}

function kindOf(node: NodeShape): string[] {
  const names: string[] = [];
  for (let proto = Object.getPrototypeOf(node) as { constructor?: { name?: string } } | null; proto; proto = Object.getPrototypeOf(proto) as typeof proto) {
    if (proto.constructor?.name) names.push(proto.constructor.name);
  }
  return names;
}

const isGraph = (node: NodeShape): boolean => "startNode" in node;

const escape = (text: string): string => text.replace(/"/g, "#quot;");

/**
 * Returns Mermaid source for `root` (a Graph or Node).
 *
 * @example
 * console.log(toMermaid(new Graph(start)));  // flowchart TD …
 */
export function toMermaid(root: NodeShape, options: MermaidOptions = {}): string {
  const lines = [`flowchart ${options.direction ?? "TD"}`];
  const ids = new Map<string, Map<NodeShape, string>>();
  const edges: string[] = [];
  let counter = 0;
  let endId: string | undefined;

  const idFor = (scope: string, node: NodeShape): string => {
    let scoped = ids.get(scope);
    if (!scoped) ids.set(scope, (scoped = new Map()));
    let id = scoped.get(node);
    if (!id) scoped.set(node, (id = `n${counter++}`));
    return id;
  };

  /** Declares every node reachable from `start` inside `scope`, recursing into nested graphs. */
  const declare = (start: NodeShape, scope: string, indent: string): string => {
    const startId = idFor(scope, start);
    const seen = new Set<NodeShape>();
    const queue: NodeShape[] = [start];
    while (queue.length > 0) {
      const node = queue.shift() as NodeShape;
      if (seen.has(node)) continue;
      seen.add(node);
      const id = idFor(scope, node);
      const label = escape(node.nodeId ?? "node");
      const kinds = kindOf(node);
      if (isGraph(node)) {
        lines.push(`${indent}subgraph ${id}["${label}"]`);
        if (node.startNode) {
          const innerStart = declare(node.startNode, id, `${indent}  `);
          lines.push(`${indent}  ${id}_start(( )) --> ${innerStart}`);
        }
        lines.push(`${indent}end`);
      } else if (kinds.includes("ParallelBatchNode")) {
        lines.push(`${indent}${id}[/"${label}"/]`);
      } else if (kinds.includes("BatchNode")) {
        lines.push(`${indent}${id}[["${label}"]]`);
      } else {
        lines.push(`${indent}${id}["${label}"]`);
      }
      for (const [action, target] of node.successors ?? []) {
        const arrow = action === "default" ? "-->" : `-- "${escape(action)}" -->`;
        if (target === null) {
          endId ??= "end_marker";
          edges.push(`${id} ${arrow} ${endId}`);
          continue;
        }
        edges.push(`${id} ${arrow} ${idFor(scope, target)}`);
        queue.push(target);
      }
    }
    return startId;
  };

  const top = isGraph(root) ? root.startNode : root;
  if (top) {
    const first = declare(top, "root", "  ");
    lines.push(`  start_marker(["start"]) --> ${first}`);
  }
  if (endId) lines.push(`  ${endId}(["end"])`);
  for (const edge of edges) lines.push(`  ${edge}`);
  return `${lines.join("\n")}\n`;
}
