import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { onTestFinished } from "vitest";
import { z } from "zod";
import { buildModel } from "../../../src/codegen/model.js";
import { renderClientFile } from "../../../src/codegen/client-file.js";
import { Graph, GraphRegistry, Node, defineGraph, type GraphDefinition, type LoadedGraph } from "../../../src/index.js";

/** The project root the sample registry pretends to live in. */
export const ROOT = path.join(path.sep, "project");

const definition = (extra: Partial<Parameters<typeof defineGraph>[0]> = {}): GraphDefinition =>
  defineGraph({ input: z.object({ text: z.string() }), output: z.object({ text: z.string() }), graph: () => new Graph(new Node()), ...extra });

/** A graph at `ROOT/<file>`. */
export function graphAt(file: string, name: string, version: number, extra: Partial<Parameters<typeof defineGraph>[0]> = {}, exportName = "default"): LoadedGraph {
  return { name, version, definition: definition(extra), file: path.join(ROOT, file), exportName };
}

/** Graphs with `-` and `_` names, several versions, a named export and a file in a subfolder. */
export function sampleGraphs(): LoadedGraph[] {
  return [
    graphAt("graphs/hello.ts", "hello", 1, { description: "Says hello" }),
    graphAt("graphs/hello.ts", "hello", 2, { input: z.object({ name: z.string(), loud: z.boolean().default(false) }), resume: z.object({ approved: z.boolean() }) }, "helloV2"),
    graphAt("graphs/say-hello.ts", "say-hello", 1),
    graphAt("graphs/text/word_count.ts", "word_count", 3, { deprecated: true }),
    graphAt("graphs/3d.mts", "3d", 1),
    graphAt("graphs/tasks.ts", "tasks", 1),
  ];
}

/** A registry of `graphs`, added in the given order. */
export function registryOf(graphs: LoadedGraph[]): GraphRegistry {
  return new GraphRegistry(graphs);
}

/** What the tests use of a generated client module (its real types live in the generated file). */
export interface ClientModule {
  createClient(options: Record<string, unknown>): any;
  KaygraphApiError: new (...args: any[]) => Error & { status: number; error_code: string; request_id?: string; details: unknown; retry_after?: number };
}

/** Generates client.ts for `graphs` into a temp folder and imports it (its only import is `import type`). */
export async function importGeneratedClient(graphs: LoadedGraph[] = sampleGraphs()): Promise<ClientModule> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-client-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "client.ts");
  await writeFile(file, renderClientFile(buildModel(registryOf(graphs), { root: ROOT, outDir: path.join(ROOT, ".kaygraph", "generated") })));
  return (await import(pathToFileURL(file).href)) as ClientModule;
}

/** A request the fake API received. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** A fake API on port 0: `handle` answers each request; every request is recorded. Closed after the test. */
export async function fakeApi(handle: (req: SeenRequest, res: ServerResponse, index: number) => void | Promise<void>) {
  const seen: SeenRequest[] = [];
  const closed: number[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
    const index = seen.push(request) - 1;
    res.on("close", () => closed.push(index));
    await handle(request, res, index);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, closed };
}

/** Starts a text/event-stream answer. */
export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req-sse" });
  res.flushHeaders();
}

/** One SSE frame of a run event, as the server writes it (`event:` type, `id:` seq, `data:` JSON). */
export function frame(event: { type: string; seq: number; [key: string]: unknown }): string {
  return `event: ${event.type}\nid: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}
