import { Graph, defineGraph } from "kaygraph";
import { z } from "zod";
import { Operation, TransformText, type TextShared } from "../../lib/text.js";

/**
 * POST /api/v1/process: the first version, kept for existing callers. `deprecated` adds a
 * `Deprecation: true` header to its answers and marks it in /docs, so callers know to move to v2.
 */
export default defineGraph({
  name: "process",
  version: 1,
  description: "Transforms text (v1; use v2)",
  deprecated: true,
  input: z.object({
    text: z.string().trim().min(1).max(10_000),
    options: z.object({ operation: Operation.default("uppercase") }).prefault({}),
  }),
  output: z.object({ result: z.string(), version: z.literal("1.0") }),
  result: (shared: TextShared) => ({ result: shared.result ?? "", version: "1.0" as const }),
  graph: () => new Graph(new TransformText()),
});
