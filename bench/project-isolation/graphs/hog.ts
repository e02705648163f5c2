import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

/** A CPU-heavy transform: busy for `ms` without yielding, then answers (no timeout: it always finishes). */
class Hog extends Node {
  override prep(shared: { input: { ms: number } }) {
    return shared.input.ms;
  }
  override exec(ms: number) {
    const until = performance.now() + ms;
    let x = 0;
    while (performance.now() < until) x += Math.sqrt(x + 1);
    return x;
  }
  override post(shared: { output?: unknown }) {
    shared.output = { done: true };
  }
}

export default defineGraph({
  name: "hog",
  input: z.object({ ms: z.number().int().min(0).max(60_000) }),
  output: z.object({ done: z.boolean() }),
  graph: () => new Graph(new Hog()),
});
