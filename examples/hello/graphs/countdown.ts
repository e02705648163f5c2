import { END, Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

interface Shared {
  input: { from: number };
  n: number;
  seen: number[];
  output?: { seen: number[]; liftoff: boolean };
}

/** A branching loop: counts down, looping on "again" until zero, then branches to "liftoff". */
class Tick extends Node<Shared> {
  prep(shared: Shared) {
    return shared.n;
  }
  post(shared: Shared, n: number) {
    shared.seen.push(n);
    shared.n = n - 1;
    return n > 0 ? "again" : "liftoff";
  }
}

class Liftoff extends Node<Shared> {
  post(shared: Shared) {
    shared.output = { seen: shared.seen, liftoff: true };
    return "done";
  }
}

export default defineGraph({
  description: "Counts down in a loop, then branches to liftoff",
  input: z.object({ from: z.number().int().min(0).max(1000).default(3) }),
  output: z.object({ seen: z.array(z.number()), liftoff: z.boolean() }),
  shared: (input) => ({ input, n: input.from, seen: [] }),
  graph: () => {
    const tick = new Tick();
    const liftoff = new Liftoff();
    tick.on("again", tick).on("liftoff", liftoff);
    liftoff.on("done", END);
    return new Graph(tick);
  },
});
