import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

interface Shared {
  input: { topic: string; words: number };
  output?: { text: string };
}

/** Streams a made-up story word by word with `this.emit`, as an LLM node would stream tokens. */
class Tell extends Node<Shared> {
  prep(shared: Shared) {
    return shared.input;
  }
  async exec({ topic, words }: Shared["input"]) {
    const vocabulary = ["once", "upon", "a", "time", topic, "went", "far", "and", "came", "back"];
    const out: string[] = [];
    for (let i = 0; i < words; i++) {
      if (this.signal.aborted) break;
      const word = vocabulary[i % vocabulary.length]!;
      out.push(word);
      this.emit({ token: `${word} ` });
      await new Promise((resolve) => setImmediate(resolve));
    }
    return out.join(" ");
  }
  post(shared: Shared, _input: unknown, text: string) {
    shared.output = { text };
  }
}

export default defineGraph({
  description: "Streams a short story token by token",
  input: z.object({ topic: z.string().default("a graph"), words: z.number().int().min(1).max(10_000).default(12) }),
  output: z.object({ text: z.string() }),
  graph: () => new Graph(new Tell()),
});
