/**
 * `kaygraph/client`: the runtime of every generated client, usable on its own in a browser, Deno, Bun or
 * Node (web platform only: fetch, streams, AbortSignal). `kaygraph generate` copies these modules into the
 * typed `client.ts`; this entry adds an untyped client for tools that discover graphs at run time.
 */
import { graphClient, taskClient } from "./calls.js";
import { Transport } from "./transport.js";
import type { ClientOptions, GraphClient, TaskClient } from "./types.js";

export * from "./types.js";
export { readEventStream, eventOf, isFinal, type SseMessage } from "./sse.js";
export { streamRun, subscribeTask } from "./streams.js";
export { Transport, type Call } from "./transport.js";
export { graphClient, taskClient } from "./calls.js";

/** A client of any kaygraph API: task calls, and `graph(name, version)` for the calls of one graph version. */
export interface UntypedClient extends TaskClient {
  /** The calls of graph `name` in `version` (routes under /api/v{version}/{name}). */
  graph<Input = unknown, Output = unknown>(name: string, version: number): GraphClient<Input, Output>;
}

/**
 * Creates a client of the kaygraph API at `options.baseUrl` without generated types.
 *
 * @example
 * import { createClient } from "kaygraph/client";
 * const client = createClient({ baseUrl: "http://localhost:8000" });
 * const output = await client.graph("hello", 1).run({ name: "Ada" });
 * for await (const event of client.graph("hello", 1).stream({ name: "Ada" })) console.log(event.type);
 */
export function createClient(options: ClientOptions): UntypedClient {
  const http = new Transport(options);
  return {
    ...taskClient(http),
    graph: <Input, Output>(name: string, version: number) => graphClient<Input, Output>(http, "/api/v" + version + "/" + encodeURIComponent(name), name, version),
  };
}
