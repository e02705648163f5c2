import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

/**
 * POST /api/v1/summarize: the expensive one (it would call a paid model), so it has its own, tighter rate
 * limit: `rateLimit` counts this graph's calls per caller apart from the tier limit of the other routes.
 */

const input = z.object({
  text: z.string().trim().min(1).max(50_000),
  sentences: z.number().int().min(1).max(5).default(1),
});

interface Shared {
  input: z.output<typeof input>;
  output?: { summary: string; sentences: number };
}

class Summarize extends Node<Shared, Shared["input"], string[]> {
  override prep(shared: Shared) {
    return shared.input;
  }
  override exec({ text, sentences }: Shared["input"]) {
    return text.split(/(?<=[.!?])\s+/).slice(0, sentences);
  }
  override post(shared: Shared, _input: unknown, kept: string[]) {
    shared.output = { summary: kept.join(" "), sentences: kept.length };
  }
}

export default defineGraph({
  name: "summarize",
  description: "Keeps the first sentences of a text (rate-limited: 5 calls a minute per caller)",
  rateLimit: "5/minute",
  input,
  output: z.object({ summary: z.string(), sentences: z.number().int() }),
  graph: () => new Graph(new Summarize({ maxRetries: 2, wait: 0.5 })),
  // As a background task (POST /api/v1/summarize/async): two more attempts if a run fails.
  retry: { attempts: 3, backoff: 1_000 },
});
