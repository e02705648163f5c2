/**
 * Streams a chat reply over a WebSocket and prints the tokens as they arrive.
 *
 *   npm run dev                              # in one terminal
 *   npm run ws -- "Tell me about graphs"     # in another
 *
 * Protocol (WS /ws/{client_id}): send {"type":"run","id":"<your id>","graph":"chat","input":{…}}; the server
 * answers with the run's events (start, node_start, data…, result or error), each carrying your id, so one
 * socket can carry many runs. {"type":"cancel","id":"<your id>"} stops a run.
 *
 * KAYGRAPH_URL picks the server (default http://127.0.0.1:3000); KAYGRAPH_TOKEN is sent as a bearer token.
 */
import { randomUUID } from "node:crypto";
import WebSocket from "ws";
import type { TokenChunk } from "../graphs/chat.js";

interface ServerEvent {
  id?: string;
  type: string;
  chunk?: TokenChunk;
  result?: { tokens: number; finish: string };
  error?: string;
  error_code?: string;
}

const base = new URL(process.env["KAYGRAPH_URL"] ?? "http://127.0.0.1:3000");
const url = `${base.protocol === "https:" ? "wss" : "ws"}://${base.host}/ws/${randomUUID()}`;
const token = process.env["KAYGRAPH_TOKEN"];
const prompt = process.argv.slice(2).join(" ") || "Tell me about graphs";
const runId = "run-1";

const socket = new WebSocket(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});

socket.on("open", () => {
  socket.send(JSON.stringify({ type: "run", id: runId, graph: "chat", version: 1, input: { prompt } }));
  // Ctrl-C cancels the run on the server, then the socket closes.
  process.once("SIGINT", () => {
    socket.send(JSON.stringify({ type: "cancel", id: runId }));
    process.exitCode = 130;
  });
});

socket.on("message", (raw) => {
  const event = JSON.parse(String(raw)) as ServerEvent;
  if (event.id !== runId) return;
  if (event.type === "data" && event.chunk) process.stdout.write(event.chunk.token);
  else if (event.type === "result") {
    process.stdout.write(`\n[${event.result?.tokens} tokens, ${event.result?.finish}]\n`);
    socket.close(1000);
  } else if (event.type === "error") {
    console.error(`\nthe run failed: ${event.error_code} ${event.error}`);
    process.exitCode ??= 1;
    socket.close(1000);
  }
});

socket.on("unexpected-response", (_request, response) => {
  console.error(`the server refused the WebSocket: ${response.statusCode} ${response.statusMessage}`);
  process.exitCode = 1;
  socket.terminate();
});

socket.on("error", (error) => {
  console.error(`WebSocket error: ${error.message}`);
  process.exitCode = 1;
});
