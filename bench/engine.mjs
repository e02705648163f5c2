// bench/engine: the same graphs in kaygraph and in the `pocketflow` npm package, in one run.
// Prints steps (or items) per second and the ratios. Run `npm run build` first.
//   node bench/engine.mjs [--rounds 5] [--steps 100000] [--items 1000] [--json]
import * as pf from "pocketflow";
import * as kg from "../dist/index.js";
import { fmt, machineLine, median, printTable } from "./lib.mjs";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt("rounds", 9);
const STEPS = opt("steps", 100_000);
const ITEMS = opt("items", 1_000);

// Each library gets the same three graphs, written with its own classes.
function loopGraph(lib, flowClass) {
  class A extends lib.Node {
    async post(shared) {
      shared.a++;
    }
  }
  class B extends lib.Node {
    async post(shared) {
      shared.b++;
    }
  }
  class C extends lib.Node {
    async post(shared) {
      shared.steps += 3;
      return shared.steps < STEPS ? "again" : "done";
    }
  }
  class End extends lib.Node {}
  const a = new A();
  const b = new B();
  const c = new C();
  a.next(b).next(c).on("again", a).on("done", new End());
  return new flowClass(a);
}

function batchGraph(lib, flowClass, base) {
  class Items extends base {
    async prep() {
      return Array.from({ length: ITEMS }, (_, i) => i);
    }
    async exec(i) {
      return i * 2;
    }
    async post(shared, _p, results) {
      shared.count = results.length;
    }
  }
  return new flowClass(new Items());
}

const noop = () => {};
const cases = [
  {
    name: `3-node loop, ${fmt(STEPS)} steps`,
    units: STEPS,
    pocketflow: () => { const g = loopGraph(pf, pf.Flow); return () => g.run({ a: 0, b: 0, steps: 0 }); },
    kaygraph: () => { const g = loopGraph(kg, kg.Graph); return () => g.run({ a: 0, b: 0, steps: 0 }); },
    kaygraphEvents: () => { const g = loopGraph(kg, kg.Graph); return () => g.run({ a: 0, b: 0, steps: 0 }, { onEvent: noop }); },
  },
  {
    name: `batch, ${fmt(ITEMS)} items`,
    units: ITEMS,
    pocketflow: () => { const g = batchGraph(pf, pf.Flow, pf.BatchNode); return () => g.run({}); },
    kaygraph: () => { const g = batchGraph(kg, kg.Graph, kg.BatchNode); return () => g.run({}); },
    kaygraphEvents: () => { const g = batchGraph(kg, kg.Graph, kg.BatchNode); return () => g.run({}, { onEvent: noop }); },
  },
  {
    name: `parallel batch, ${fmt(ITEMS)} items`,
    units: ITEMS,
    pocketflow: () => { const g = batchGraph(pf, pf.Flow, pf.ParallelBatchNode); return () => g.run({}); },
    kaygraph: () => { const g = batchGraph(kg, kg.Graph, kg.ParallelBatchNode); return () => g.run({}); },
    kaygraphEvents: () => { const g = batchGraph(kg, kg.Graph, kg.ParallelBatchNode); return () => g.run({}, { onEvent: noop }); },
  },
];

/**
 * Runs every case; returns rows of results. The three sides run in rotation inside each round (A B C, A B C…)
 * so drift in machine load hits them alike; each side's figure is the median over the rounds.
 */
export async function runEngineBench() {
  const rows = [];
  for (const c of cases) {
    // Batch cases are short: repeat them so each timed round is long enough to measure.
    const reps = c.units >= 10_000 ? 1 : 200;
    const sides = [c.pocketflow(), c.kaygraph(), c.kaygraphEvents()];
    const times = sides.map(() => []);
    const once = async (run) => {
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await run();
      return performance.now() - t0;
    };
    for (const run of sides) for (let w = 0; w < 2; w++) await once(run); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (let s = 0; s < sides.length; s++) times[s].push(await once(sides[s]));
    }
    const [pfRate, kgRate, kgEventsRate] = times.map((t) => (c.units * reps) / (median(t) / 1000));
    rows.push({ name: c.name, pocketflow: pfRate, kaygraph: kgRate, kaygraphEvents: kgEventsRate, ratio: kgRate / pfRate, eventsCost: kgRate / kgEventsRate - 1 });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`engine benchmark — ${machineLine()}, median of ${ROUNDS} rounds`);
  const rows = await runEngineBench();
  if (args.includes("--json")) {
    console.log(JSON.stringify(rows));
  } else {
    printTable(
      ["graph", "pocketflow /s", "kaygraph /s", "kaygraph+events /s", "kaygraph ÷ pocketflow", "events cost"],
      rows.map((r) => [r.name, fmt(r.pocketflow), fmt(r.kaygraph), fmt(r.kaygraphEvents), `${fmt(r.ratio, 2)}x`, `${r.eventsCost < 0 ? "-" : "+"}${fmt(Math.abs(r.eventsCost) * 100, 0)}%`]),
    );
  }
}
