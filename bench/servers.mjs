// Starts benchmark servers as child processes and waits for their ready line.
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(benchDir, "..");

/**
 * Node flags for every server a bench starts, e.g. `KAYGRAPH_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`
 * to profile them (cluster workers inherit them; the profiles are written when the servers stop).
 */
const NODE_ARGS = (process.env.KAYGRAPH_BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);

/** Spawns `node args` and resolves with { port, stop } once it prints `ready port=<n>`. */
export function startServer(args, { env = {}, cwd = root, readyPattern = /ready port=(\d+)/ } = {}) {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd, env: { ...process.env, KAYGRAPH_TEST: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const waiters = new Set();
  const collect = (chunk) => {
    output += chunk.toString();
    for (const check of waiters) check();
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  // Profiling a reload: the servers' trace lines (see src/process/reload-trace.ts) go to the bench's stderr.
  if (process.env.KAYGRAPH_RELOAD_TRACE === "1") child.stderr.on("data", (chunk) => process.stderr.write(chunk.toString().split("\n").filter((l) => l.startsWith("kaygraph-trace")).map((l) => `${l}\n`).join("")));
  /** Resolves once the output (from the start) contains `text`. */
  const waitFor = (text) =>
    new Promise((resolve) => {
      const check = () => {
        if (!output.includes(text)) return;
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
      check();
    });
  return new Promise((resolve, reject) => {
    const onData = () => {
      const match = output.match(readyPattern);
      if (match) {
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        resolve({
          port: Number(match[1]),
          child,
          waitFor,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once("exit", () => done());
              child.kill("SIGTERM");
            }),
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`server ${args.join(" ")} exited with ${code} before ready:\n${output}`)));
  });
}

/** `kaygraph serve` on the bench project (or another project) with extra flags. */
export function startKaygraph(flags = [], options = {}) {
  return startServer([path.join(root, "bin/kaygraph.js"), "serve", "--cwd", options.project ?? path.join(benchDir, "project"), "--port", "0", "--host", "127.0.0.1", ...flags], {
    ...options,
    readyPattern: /kaygraph: ready port=(\d+)/,
  });
}
