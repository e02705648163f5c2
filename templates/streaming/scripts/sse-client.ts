/**
 * Streams a chat reply over server-sent events with the generated typed client and prints the tokens as
 * they arrive.
 *
 *   npm run dev                               # in one terminal
 *   npm run sse -- "Tell me about graphs"     # in another
 *
 * KAYGRAPH_URL picks the server (default http://127.0.0.1:3000); KAYGRAPH_TOKEN is sent as a bearer token
 * when set. Ctrl-C closes the stream, which aborts the run on the server.
 */
import { createClient, KaygraphApiError } from "../.kaygraph/generated/client.js";
import type { TokenChunk } from "../graphs/chat.js";

const client = createClient({
  baseUrl: process.env["KAYGRAPH_URL"] ?? "http://127.0.0.1:3000",
  token: process.env["KAYGRAPH_TOKEN"],
});

const prompt = process.argv.slice(2).join(" ") || "Tell me about graphs";
const controller = new AbortController();
process.once("SIGINT", () => controller.abort());

try {
  // POST /api/v1/chat/stream: each run event arrives as it happens.
  for await (const event of client.chat.v1.stream({ prompt }, { signal: controller.signal })) {
    if (event.type === "data") process.stdout.write((event.chunk as TokenChunk).token);
    else if (event.type === "result") process.stdout.write(`\n[${event.result.tokens} tokens, ${event.result.finish}]\n`);
    else if (event.type === "error") {
      console.error(`\nthe run failed: ${event.error_code} ${event.error}`);
      process.exitCode = 1;
    }
  }
} catch (error) {
  if (controller.signal.aborted) process.exitCode = 130;
  else if (error instanceof KaygraphApiError) {
    console.error(`${error.status} ${error.error_code}: ${error.message}`);
    process.exitCode = 1;
  } else throw error;
}
