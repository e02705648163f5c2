// bench/engine-peers: kaygraph vs pocketflow vs @langchain/langgraph on equivalent graphs (chain, loop,
// batch, parallel batch): steps or items per second and peak memory, each side in its own process.
//   node bench/engine-peers.mjs
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, machineLine, printTable } from "./lib.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
// LangGraph is orders of magnitude slower per step: it gets fewer units so a run takes seconds, not hours;
// rates are per second either way.
const CASES = [
  { kind: "chain", label: "chain of 50 nodes", units: { kaygraph: 50, pocketflow: 50, langgraph: 50 } },
  { kind: "loop", label: "3-node loop", units: { kaygraph: 30_000, pocketflow: 30_000, langgraph: 600 } },
  { kind: "batch", label: "batch of items", units: { kaygraph: 10_000, pocketflow: 10_000, langgraph: 10_000 } },
  { kind: "parallel", label: "parallel batch", units: { kaygraph: 10_000, pocketflow: 10_000, langgraph: 10_000 } },
];
const LIBS = ["kaygraph", "pocketflow", "langgraph"];

function side(lib, kind, units) {
  const out = execFileSync(process.execPath, [path.join(here, "engine-side.mjs"), lib, kind, String(units)], { cwd: path.resolve(here, ".."), encoding: "utf8" });
  return JSON.parse(out);
}

export function runEnginePeers() {
  return CASES.map((c) => ({ label: c.label, results: Object.fromEntries(LIBS.map((lib) => [lib, side(lib, c.kind, c.units[lib])])) }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`engine vs peers — ${machineLine()}; each side in its own process, median of 15 runs after 10 warm-ups`);
  const rows = runEnginePeers();
  printTable(
    ["graph", "kaygraph /s", "pocketflow /s", "langgraph /s", "÷ pocketflow", "÷ langgraph", "peak RSS MB (kg / pf / lg)"],
    rows.map((r) => [
      r.label,
      fmt(r.results.kaygraph.rate),
      fmt(r.results.pocketflow.rate),
      fmt(r.results.langgraph.rate),
      `${fmt(r.results.kaygraph.rate / r.results.pocketflow.rate, 2)}x`,
      `${fmt(r.results.kaygraph.rate / r.results.langgraph.rate, 0)}x`,
      `${fmt(r.results.kaygraph.maxRssMb)} / ${fmt(r.results.pocketflow.maxRssMb)} / ${fmt(r.results.langgraph.maxRssMb)}`,
    ]),
  );
}
