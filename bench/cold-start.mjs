// bench/cold-start: wall time of `kaygraph run hello` vs `node` importing the same graph file directly
// (with tsx's loader, since the graph is TypeScript) and running it. Same machine, same run, alternating.
//   node bench/cold-start.mjs [--rounds 10]
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, machineLine, median } from "./lib.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const example = path.join(root, "examples/hello");
const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 10;

const direct = `
const mod = await import(${JSON.stringify(path.join(example, "graphs/hello.ts"))});
const def = mod.default;
const input = def.input.parse({ name: "Ada" });
const shared = { input };
await def.graph().run(shared);
process.stdout.write(JSON.stringify(def.output.parse(shared.output)) + "\\n");
`;

const sides = {
  "kaygraph run": () => execFileSync(process.execPath, [path.join(root, "bin/kaygraph.js"), "run", "hello", "--cwd", example, "--input", '{"name":"Ada"}', "--quiet"], { encoding: "utf8" }),
  "node + tsx, direct import": () => execFileSync(process.execPath, ["--import", "tsx/esm", "--input-type=module", "-e", direct], { cwd: root, encoding: "utf8" }),
  "node, no tsx (baseline)": () => execFileSync(process.execPath, ["-e", "0"], { encoding: "utf8" }),
};

/** Times each side `ROUNDS` times in rotation; returns median ms per side. */
export function runColdStartBench() {
  const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (const run of Object.values(sides)) run(); // warm the file cache
  for (let i = 0; i < ROUNDS; i++) {
    for (const [name, run] of Object.entries(sides)) {
      const t0 = performance.now();
      const out = run();
      times[name].push(performance.now() - t0);
      if (name !== "node, no tsx (baseline)" && !out.includes("Hello, Ada.")) throw new Error(`${name} printed ${out}`);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`cold start — ${machineLine()}, median of ${ROUNDS} runs`);
  const result = runColdStartBench();
  for (const [name, ms] of Object.entries(result)) console.log(`${name.padEnd(28)} ${fmt(ms, 0)} ms`);
  const ratio = result["kaygraph run"] / result["node + tsx, direct import"];
  console.log(`kaygraph run ÷ direct import with tsx: ${fmt(ratio, 2)}x (target < 2x)`);
}
