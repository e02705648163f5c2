// bench/http: the same echo graph behind kaygraph serve, a bare Express 5 app, and a raw node:http server,
// measured with autocannon in one run, sides in rotation each round. Prints req/s, p50/p99 and ratios.
//   node bench/http.mjs [--rounds 3] [--duration 5] [--connections 50]
import autocannon from "autocannon";
import path from "node:path";
import { fmt, machineLine, median, printTable } from "./lib.mjs";
import { benchDir, startKaygraph, startServer } from "./servers.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : dflt);
const ROUNDS = opt("rounds", 3);
const DURATION = opt("duration", 5);
const CONNECTIONS = opt("connections", 50);
const BODY = JSON.stringify({ text: "hello graph", n: 41 });

/** Every side: a name and a function starting its server. Later rows add auth, limits and workers. */
export const SIDES = [
  { name: "raw node:http", start: () => startServer([path.join(benchDir, "servers/node-http-echo.mjs")]) },
  { name: "bare Express 5", start: () => startServer([path.join(benchDir, "servers/express-echo.mjs")]) },
  { name: "kaygraph serve", start: () => startKaygraph() },
];

function load(port) {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `http://127.0.0.1:${port}/api/v1/echo`, method: "POST", headers: { "content-type": "application/json" }, body: BODY, connections: CONNECTIONS, duration: DURATION },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

/** Runs every side for `ROUNDS` rounds; returns { name, rps, p50, p99, errors } medians per side. */
export async function runHttpBench(sides = SIDES) {
  const samples = new Map(sides.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of sides) {
      const server = await side.start();
      try {
        await load(server.port).then(() => undefined); // warm-up pass, discarded
        const r = await load(server.port);
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${side.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        samples.get(side.name).push({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99 });
      } finally {
        await server.stop();
      }
    }
  }
  return sides.map((s) => {
    const runs = samples.get(s.name);
    return { name: s.name, rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`http benchmark — ${machineLine()}; ${CONNECTIONS} connections, ${DURATION}s per side per round, median of ${ROUNDS} rounds`);
  const rows = await runHttpBench();
  const express = rows.find((r) => r.name === "bare Express 5");
  printTable(
    ["server", "req/s", "p50 ms", "p99 ms", "÷ bare Express"],
    rows.map((r) => [r.name, fmt(r.rps), fmt(r.p50, 1), fmt(r.p99, 1), `${fmt(r.rps / express.rps, 2)}x`]),
  );
}
