// Starts the LangGraph.js dev server (`@langchain/langgraph-cli`, in-memory API server) on an equivalent echo
// graph, for the HTTP comparison. Installed on first use into bench/.peers/langgraph (git-ignored), so the
// project itself does not depend on it.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { benchDir } from "./servers.mjs";

const dir = path.join(benchDir, ".peers", "langgraph");

function install() {
  if (existsSync(path.join(dir, "node_modules", ".bin", "langgraphjs"))) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "langgraph-peer", private: true, type: "module" }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "@langchain/langgraph-cli@^1", "@langchain/langgraph@^1", "@langchain/core@^1"], { cwd: dir, stdio: "inherit" });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The same echo graph as bench/project/graphs/echo.ts: validate-free, one node, uppercase + increment. */
const GRAPH = `import { StateGraph, Annotation, START, END } from "@langchain/langgraph";
const State = Annotation.Root({ text: Annotation(), n: Annotation() });
export const graph = new StateGraph(State)
  .addNode("echo", (s) => ({ text: String(s.text).toUpperCase(), n: s.n + 1 }))
  .addEdge(START, "echo").addEdge("echo", END).compile();
`;

/** Starts the dev server; resolves { port, child, stop } (`child`: its process, whose tree's CPU a bench reads). */
export async function startLangGraph() {
  install();
  writeFileSync(path.join(dir, "graph.mjs"), GRAPH);
  writeFileSync(path.join(dir, "langgraph.json"), JSON.stringify({ node_version: "20", graphs: { echo: "./graph.mjs:graph" }, dependencies: ["."] }));
  const port = await freePort();
  const child = spawn(path.join(dir, "node_modules", ".bin", "langgraphjs"), ["dev", "--port", String(port), "--no-browser"], { cwd: dir, stdio: "ignore", detached: true });
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/ok`).then((r) => r.ok).catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error("the LangGraph dev server did not start in 90 s");
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    port,
    child,
    stop: async () => {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    },
  };
}
