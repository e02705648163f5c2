// bench/http: the same echo graph behind kaygraph serve, a bare Express 5 app, and a raw node:http server,
// measured with autocannon in one run, sides in rotation each round. Prints req/s, p50/p99 and ratios.
//   node bench/http.mjs [--rounds 3] [--duration 5] [--connections 50] [--all]   (--all adds the --workers 2 rows)
import autocannon from "autocannon";
import path from "node:path";
import { fmt, machineLine, median, numberFlag, printTable, treeCpuMs } from "./lib.mjs";
import { benchDir, startKaygraph, startServer } from "./servers.mjs";
import { signToken } from "../dist/security/index.js";
import { startLangGraph } from "./langgraph-server.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => numberFlag(args, name, dflt);
const ROUNDS = opt("rounds", 3);
const DURATION = opt("duration", 5);
const CONNECTIONS = opt("connections", 50);
const BODY = JSON.stringify({ text: "hello graph", n: 41 });

const SECRET = "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
const TOKEN = await signToken({ sub: "bench-user", tier: "premium", expiresIn: "1h" }, SECRET);
// Limits high enough that the benchmark is never refused: it measures the cost of checking them.
const SECURE = ["--auth", "jwt", "--rate-limit", "100000000/minute"];
const SECURE_ENV = { KAYGRAPH_SECRET_KEY: SECRET, KAYGRAPH_DATABASE: undefined };
const AUTH_HEADERS = { authorization: `Bearer ${TOKEN}` };

/** Every side: a name, a function starting its server, and extra request headers. */
export const SIDES = [
  { name: "raw node:http", start: () => startServer([path.join(benchDir, "servers/node-http-echo.mjs")]) },
  { name: "bare Express 5", start: () => startServer([path.join(benchDir, "servers/express-echo.mjs")]) },
  { name: "kaygraph serve", start: () => startKaygraph() },
  { name: "kaygraph serve + auth + limits", start: () => startKaygraph(SECURE, { env: SECURE_ENV }), headers: AUTH_HEADERS },
  { name: "kaygraph serve --workers 2", start: () => startKaygraph(["--workers", "2"]), optional: true },
  { name: "kaygraph serve --workers 2 + auth + limits", start: () => startKaygraph(["--workers", "2", ...SECURE], { env: SECURE_ENV }), headers: AUTH_HEADERS, optional: true },
  {
    name: "LangGraph.js dev server (stateless /runs/wait)",
    start: () => startLangGraph(),
    path: "/runs/wait",
    body: JSON.stringify({ assistant_id: "echo", input: { text: "hello graph", n: 41 } }),
    optional: true,
  },
];

function load(port, side) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}${side.path ?? "/api/v1/echo"}`, method: "POST", headers: { "content-type": "application/json", ...side.headers }, body: side.body ?? BODY, connections: CONNECTIONS, duration: DURATION },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/**
 * Runs every side for `ROUNDS` rounds; returns { name, rps, p50, p99, cpuUs } medians per side (`cpuUs`: CPU
 * time of the server's process tree per request during the measured pass, in µs; NaN off Linux).
 */
export async function runHttpBench(sides = SIDES.filter((s) => !s.optional || args.includes("--all"))) {
  const samples = new Map(sides.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    // The order rotates each round, so no side is always the one measured first (or last) on a busy machine.
    for (const side of sides.map((_, i) => sides[(i + round) % sides.length])) {
      const server = await side.start();
      try {
        await load(server.port, side).then(() => undefined); // warm-up pass, discarded
        const cpu0 = treeCpuMs(server.child.pid);
        const r = await load(server.port, side);
        const cpuUs = ((treeCpuMs(server.child.pid) - cpu0) * 1000) / r.requests.total;
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${side.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        samples.get(side.name).push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUs });
      } finally {
        await server.stop();
      }
    }
  }
  return sides.map((s) => {
    const runs = samples.get(s.name);
    return { name: s.name, rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), cpuUs: median(runs.map((r) => r.cpuUs)), samples: runs };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`http benchmark — ${machineLine()}; ${CONNECTIONS} connections, ${DURATION}s per side per round, median of ${ROUNDS} rounds`);
  const rows = await runHttpBench();
  const express = rows.find((r) => r.name === "bare Express 5");
  const plain = rows.find((r) => r.name === "kaygraph serve");
  printTable(
    ["server", "req/s", "p50 ms", "p99 ms", "÷ bare Express", "÷ kaygraph serve"],
    rows.map((r) => [r.name, fmt(r.rps), fmt(r.p50, 1), fmt(r.p99, 1), `${fmt(r.rps / express.rps, 2)}x`, `${fmt(r.rps / plain.rps, 2)}x`]),
  );
  console.log("targets: kaygraph serve ≥ 0.80x bare Express; with auth + limits ≥ 0.75x bare Express");
}
