// bench/tracing: the cost of OpenTelemetry. The echo graph behind bare Express, kaygraph serve with tracing
// off (no OTEL_* variables: the API alone, no SDK loaded) and kaygraph serve exporting every span over
// OTLP/HTTP (protobuf) to a local receiver that accepts and discards, sides in rotation each round.
//   node bench/tracing.mjs [--rounds 3] [--duration 5] [--connections 50]
import http from "node:http";
import path from "node:path";
import { fmt, machineLine, printTable } from "./lib.mjs";
import { runHttpBench } from "./http.mjs";
import { benchDir, startKaygraph, startServer } from "./servers.mjs";

/** A collector stand-in: answers every export with 200 and counts the bytes. */
export async function startSink() {
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on("data", (chunk) => (bytes += chunk.length));
    req.on("end", () => res.writeHead(200, { "content-type": "application/x-protobuf" }).end());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { endpoint: `http://127.0.0.1:${server.address().port}`, bytes: () => bytes, close: () => new Promise((resolve) => server.close(resolve)) };
}

export async function runTracingBench() {
  const sink = await startSink();
  try {
    const sides = [
      { name: "bare Express 5", start: () => startServer([path.join(benchDir, "servers/express-echo.mjs")]) },
      { name: "kaygraph serve, tracing off", start: () => startKaygraph() },
      { name: "kaygraph serve, OTLP export on", start: () => startKaygraph([], { env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_SERVICE_NAME: "bench" } }) },
    ];
    const rows = await runHttpBench(sides);
    return { rows, exportedBytes: sink.bytes() };
  } finally {
    await sink.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`tracing benchmark — ${machineLine()}`);
  const { rows, exportedBytes } = await runTracingBench();
  const off = rows.find((r) => r.name === "kaygraph serve, tracing off");
  const express = rows.find((r) => r.name === "bare Express 5");
  printTable(
    ["server", "req/s", "p50 ms", "p99 ms", "÷ bare Express", "÷ tracing off"],
    rows.map((r) => [r.name, fmt(r.rps), fmt(r.p50, 1), fmt(r.p99, 1), `${fmt(r.rps / express.rps, 2)}x`, `${fmt(r.rps / off.rps, 2)}x`]),
  );
  console.log(`exported ${fmt(exportedBytes / 1e6, 1)} MB of spans`);
}
