import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

/**
 * Text processing, served at POST /api/v1/process:
 *
 *   tokenize ─ "transform" ─▶ transform ──┐
 *            └ "summarize" ─▶ summarize ──┴─▶ respond
 *
 * `tokenize` picks the branch; `summarize` stands in for a call to a flaky service (an LLM, say):
 * it is retried, and falls back to a plain cut when every attempt fails.
 */

const Operation = z.enum(["uppercase", "lowercase", "title", "reverse", "summarize"]);

const input = z.object({
  text: z.string().trim().min(1).max(10_000).describe("The text to process"),
  options: z
    .object({
      operation: Operation.default("uppercase"),
      maxWords: z.number().int().min(1).max(200).default(12).describe("summarize: the most words kept"),
      failures: z.number().int().min(0).max(10).default(0).describe("summarize: attempts that fail before it answers (try 2, then 5)"),
    })
    .prefault({}),
});

const output = z.object({
  result: z.string(),
  metadata: z.object({
    operation: Operation,
    branch: z.enum(["transform", "summarize"]),
    words: z.number().int(),
    characters: z.number().int(),
    attempts: z.number().int().describe("Attempts the step needed"),
    degraded: z.boolean().describe("True when the summary is the fallback's"),
  }),
});

type Input = z.output<typeof input>;
type Output = z.output<typeof output>;
type Operation = z.output<typeof Operation>;

/** The shared store every node reads and writes during one run. */
interface Shared {
  input: Input;
  words?: string[];
  step?: { text: string; attempts: number; degraded: boolean };
  output?: Output;
}

/** Splits the text into words and picks the branch. */
class Tokenize extends Node<Shared, string, string[]> {
  override prep(shared: Shared) {
    return shared.input.text;
  }
  override exec(text: string) {
    return text.split(/\s+/).filter(Boolean);
  }
  override post(shared: Shared, _text: string, words: string[]) {
    shared.words = words;
    return shared.input.options.operation === "summarize" ? "summarize" : "transform";
  }
}

const titleCase = (word: string) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();

/** Applies a word-level operation. */
class Transform extends Node<Shared, { words: string[]; operation: Operation }, string> {
  override prep(shared: Shared) {
    return { words: shared.words ?? [], operation: shared.input.options.operation };
  }
  override exec({ words, operation }: { words: string[]; operation: Operation }) {
    switch (operation) {
      case "lowercase":
        return words.join(" ").toLowerCase();
      case "title":
        return words.map(titleCase).join(" ");
      case "reverse":
        return [...words].reverse().join(" ");
      default:
        return words.join(" ").toUpperCase();
    }
  }
  override post(shared: Shared, _prep: unknown, text: string) {
    shared.step = { text, attempts: 1, degraded: false };
  }
}

interface SummarizeJob {
  words: string[];
  maxWords: number;
  failures: number;
}

/**
 * The retrying node: `maxRetries` attempts in all, `wait` seconds apart. Replace `exec` with your model
 * call; `this.signal` aborts it when the request times out or the client goes away.
 */
class Summarize extends Node<Shared, SummarizeJob, { text: string; attempts: number; degraded: boolean }> {
  override prep(shared: Shared): SummarizeJob {
    return { words: shared.words ?? [], maxWords: shared.input.options.maxWords, failures: shared.input.options.failures };
  }
  override exec({ words, maxWords, failures }: SummarizeJob) {
    if (this.curRetry < failures) throw new Error(`summarizer unavailable (simulated failure ${this.curRetry + 1} of ${failures})`);
    const sentence = words.join(" ").split(/(?<=[.!?])\s/)[0] ?? "";
    const kept = sentence.split(" ").slice(0, maxWords);
    const cut = kept.length < words.length;
    return { text: kept.join(" ") + (cut ? "…" : ""), attempts: this.curRetry + 1, degraded: false };
  }
  /** Every attempt failed: answer with a plain cut instead of failing the request. */
  override execFallback({ words, maxWords }: SummarizeJob) {
    return { text: words.slice(0, maxWords).join(" "), attempts: this.maxRetries, degraded: true };
  }
  override post(shared: Shared, _job: SummarizeJob, step: { text: string; attempts: number; degraded: boolean }) {
    shared.step = step;
  }
}

/** Builds the response from whichever branch ran. */
class Respond extends Node<Shared> {
  override post(shared: Shared) {
    const step = shared.step ?? { text: "", attempts: 0, degraded: false };
    const operation = shared.input.options.operation;
    shared.output = {
      result: step.text,
      metadata: {
        operation,
        branch: operation === "summarize" ? "summarize" : "transform",
        words: shared.words?.length ?? 0,
        characters: step.text.length,
        attempts: step.attempts,
        degraded: step.degraded,
      },
    };
  }
}

export default defineGraph({
  name: "process",
  description: "Processes text: a word-level transform, or a summary from a retried (flaky) summarizer",
  input,
  output,
  graph: () => {
    const tokenize = new Tokenize();
    const transform = new Transform();
    const summarize = new Summarize({ maxRetries: 3, wait: 0.2 });
    const respond = new Respond();
    tokenize.on("transform", transform).on("summarize", summarize);
    transform.next(respond);
    summarize.next(respond);
    return new Graph(tokenize);
  },
  examples: [
    { name: "uppercase", input: { text: "graphs that serve themselves" } },
    { name: "summarize", input: { text: "Nodes prep, exec and post. Graphs connect them.", options: { operation: "summarize", maxWords: 4 } } },
  ],
});
