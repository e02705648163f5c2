import { Graph, Node, abortableSleep, defineGraph } from "kaygraph";
import { z } from "zod";

/**
 * A chat reply streamed token by token, served at
 *
 *   POST /api/v1/chat          → the whole reply at the end
 *   POST /api/v1/chat/stream   → server-sent events: one `data` event per token, then `result`
 *   WS   /ws/{client_id}       → the same events over a WebSocket ({"type":"run","graph":"chat",…})
 *
 * `Generate` stands in for a language model: swap `fakeModel` for your provider's streaming API and keep
 * calling `this.emit` with each token.
 */

const input = z.object({
  prompt: z.string().trim().min(1).max(4_000),
  maxTokens: z.number().int().min(1).max(2_000).default(200),
  delayMs: z.number().int().min(0).max(5_000).default(40).describe("Pause between tokens, to watch them arrive"),
});

const output = z.object({
  text: z.string(),
  tokens: z.number().int(),
  finish: z.enum(["stop", "length"]).describe("stop: the reply ended; length: maxTokens was reached"),
});

type Input = z.output<typeof input>;
type Output = z.output<typeof output>;

/** A streamed chunk: what `this.emit` sends and clients receive as `data` events. */
export interface TokenChunk {
  token: string;
  index: number;
}

interface Shared {
  input: Input;
  output?: Output;
}

/** A stand-in for a streaming model: yields the reply word by word. */
export async function* fakeModel(prompt: string, signal: AbortSignal, delayMs: number): AsyncGenerator<string> {
  const reply = `You said: "${prompt}". A kaygraph node streams each token with this.emit, and every watcher of the run sees it at once: SSE, WebSocket and task events alike.`;
  const words = reply.split(" ");
  for (const [i, word] of words.entries()) {
    if (delayMs > 0) await abortableSleep(delayMs, signal);
    yield i === words.length - 1 ? word : `${word} `;
  }
}

/** Streams the reply: one `data` event per token, stopping when the client goes away (`this.signal`). */
class Generate extends Node<Shared, Input, Output> {
  override prep(shared: Shared) {
    return shared.input;
  }
  override async exec({ prompt, maxTokens, delayMs }: Input): Promise<Output> {
    let text = "";
    let tokens = 0;
    for await (const token of fakeModel(prompt, this.signal, delayMs)) {
      if (tokens === maxTokens) return { text, tokens, finish: "length" };
      this.emit({ token, index: tokens } satisfies TokenChunk);
      text += token;
      tokens += 1;
    }
    return { text, tokens, finish: "stop" };
  }
  override post(shared: Shared, _input: Input, reply: Output) {
    shared.output = reply;
  }
}

export default defineGraph({
  name: "chat",
  description: "Streams a reply token by token (SSE at /api/v1/chat/stream, or WebSocket at /ws/{client_id})",
  input,
  output,
  graph: () => new Graph(new Generate({ nodeId: "generate" })),
  examples: [{ name: "hello", input: { prompt: "Hello!", delayMs: 0 } }],
});
