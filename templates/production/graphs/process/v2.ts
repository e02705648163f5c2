import { Graph, Node, defineGraph, type Identity } from "kaygraph";
import { z } from "zod";
import { Operation, TransformText, type TextShared } from "../../lib/text.js";

/**
 * POST /api/v2/process: the current version. It adds a priority and metrics, and knows its caller: with
 * auth on, `ctx.user` carries the token's `sub` and `tier` (and all its claims).
 */

const input = z.object({
  text: z.string().trim().min(1).max(10_000),
  options: z.object({ operation: Operation.default("uppercase") }).prefault({}),
  priority: z.enum(["low", "normal", "high"]).default("normal"),
});

const output = z.object({
  result: z.string(),
  version: z.literal("2.0"),
  metadata: z.object({
    words: z.number().int(),
    priority: z.enum(["low", "normal", "high"]),
    user: z.string().nullable().describe("The token's sub (null without auth)"),
    tier: z.string().nullable(),
  }),
  advanced_metrics: z.object({ characters: z.number().int(), duration_ms: z.number() }),
});

interface Shared extends TextShared {
  input: z.output<typeof input>;
  user: Identity | null;
  startedAt: number;
  output?: z.output<typeof output>;
}

/** Builds the v2 answer from the transform's result and the caller. */
class Respond extends Node<Shared> {
  override post(shared: Shared) {
    const result = shared.result ?? "";
    shared.output = {
      result,
      version: "2.0",
      metadata: {
        words: result.split(" ").filter(Boolean).length,
        priority: shared.input.priority,
        user: shared.user?.sub ?? null,
        tier: shared.user?.tier ?? null,
      },
      advanced_metrics: { characters: result.length, duration_ms: performance.now() - shared.startedAt },
    };
  }
}

export default defineGraph({
  name: "process",
  version: 2,
  description: "Transforms text, with priority, caller and metrics",
  input,
  output,
  shared: (value, ctx): Shared => ({ input: value, user: ctx.user ?? null, startedAt: performance.now() }),
  graph: () => {
    const transform = new TransformText();
    transform.next(new Respond());
    return new Graph(transform);
  },
  timeoutMs: 10_000,
  examples: [{ name: "title case", input: { text: "ship it today", options: { operation: "title" } } }],
});
