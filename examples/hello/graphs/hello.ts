import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

interface Shared {
  input: { name: string; excited: boolean };
  output?: { greeting: string };
}

class Greet extends Node<Shared> {
  prep(shared: Shared) {
    return shared.input;
  }
  exec({ name, excited }: Shared["input"]) {
    return `Hello, ${name}${excited ? "!" : "."}`;
  }
  post(shared: Shared, _input: unknown, greeting: string) {
    shared.output = { greeting };
  }
}

export default defineGraph({
  description: "Greets someone",
  input: z.object({ name: z.string().min(1), excited: z.boolean().default(false) }),
  output: z.object({ greeting: z.string() }),
  graph: () => new Graph(new Greet()),
  examples: [{ name: "ada", input: { name: "Ada" }, output: { greeting: "Hello, Ada." } }],
});
