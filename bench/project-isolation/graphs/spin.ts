import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

/** A node that never yields (`for (;;) {}`) with a 1 s timeout: only terminating its thread stops it. */
class Spin extends Node {
  override exec(): never {
    for (;;) {
      // spin
    }
  }
}

export default defineGraph({ name: "spin", input: z.object({}), output: z.object({}), timeoutMs: 1000, graph: () => new Graph(new Spin()) });
