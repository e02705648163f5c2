import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

/** A CPU-bound node: hashes in a loop, so throughput scales with cores, not I/O. */
class Burn extends Node {
  override prep(shared: { input: { rounds: number } }) {
    return shared.input.rounds;
  }
  override exec(rounds: number) {
    let h = 2166136261;
    for (let i = 0; i < rounds; i++) h = Math.imul(h ^ i, 16777619) >>> 0;
    return h;
  }
  override post(shared: { output?: unknown }, _r: number, h: number) {
    shared.output = { h };
  }
}

export default defineGraph({
  name: "burn",
  input: z.object({ rounds: z.number().int().min(1).max(100_000_000) }),
  output: z.object({ h: z.number() }),
  graph: () => new Graph(new Burn()),
});
