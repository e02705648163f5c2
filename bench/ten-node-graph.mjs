// The 10-node graph of the durable-run benches (bench/checkpoints.mjs, bench/checkpoint-frames.mjs): each node
// appends its id to the shared log and counts; as a loaded registry entry, ready for runDefinition.
import { z } from "zod";
import { Graph, Node, defineGraph } from "../dist/index.js";

/** One node: appends its id to `shared.log` and counts. */
export class Step extends Node {
  post(shared) {
    shared.log.push(this.nodeId);
    shared.count += 1;
  }
}

function tenNodes() {
  const first = new Step({ nodeId: "n1" });
  let last = first;
  for (let i = 2; i <= 10; i++) last = last.next(new Step({ nodeId: `n${i}` }));
  return new Graph(first);
}

/** The graph as a loaded definition named `name`; `extra` is merged into the definition (e.g. `checkpoint: false`). */
export const tenNodeGraph = (name, extra = {}) => ({
  name,
  version: 1,
  file: "bench",
  exportName: "default",
  definition: defineGraph({
    name,
    input: z.object({ text: z.string() }),
    output: z.object({ count: z.number() }),
    shared: (input) => ({ input, log: [], count: 0 }),
    result: (shared) => ({ count: shared.count }),
    graph: tenNodes,
    ...extra,
  }),
});
