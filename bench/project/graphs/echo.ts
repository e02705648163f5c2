import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

/** The graph every HTTP benchmark side runs: validate, one node, answer. */
export class Echo extends Node {
  override prep(shared: { input: { text: string; n: number } }) {
    return shared.input;
  }
  override exec(input: { text: string; n: number }) {
    return { text: input.text.toUpperCase(), n: input.n + 1 };
  }
  override post(shared: { output?: unknown }, _input: unknown, out: unknown) {
    shared.output = out;
  }
}

export const input = z.object({ text: z.string(), n: z.number().int() });
export const output = z.object({ text: z.string(), n: z.number().int() });

export default defineGraph({ name: "echo", input, output, graph: () => new Graph(new Echo()) });
