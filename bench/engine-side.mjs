// One side of the engine comparison, in its own process so its memory is its own:
//   node bench/engine-side.mjs <kaygraph|pocketflow|langgraph> <chain|loop|batch|parallel> <units>
// Prints JSON { rate, maxRssMb }: units per second (median of 15 timed samples after 10 warm-ups) and peak RSS.
import { median } from "./lib.mjs";

const [lib, kind, unitsArg] = process.argv.slice(2);
const UNITS = Number(unitsArg);

async function kaygraphOrPocketflow(mod, flowClass, batchBase, parallelBase) {
  const M = await import(mod);
  const Flow = M[flowClass];
  class Step extends M.Node {
    async post(shared) {
      shared.steps++;
    }
  }
  class Decide extends M.Node {
    async post(shared) {
      shared.steps++;
      return shared.steps < UNITS ? "again" : "done";
    }
  }
  class End extends M.Node {}
  if (kind === "chain") {
    const first = new Step();
    let last = first;
    for (let i = 1; i < UNITS; i++) last = last.next(new Step());
    const g = new Flow(first);
    return () => g.run({ steps: 0 });
  }
  if (kind === "loop") {
    const a = new Step();
    const b = new Step();
    const c = new Decide();
    a.next(b).next(c).on("again", a).on("done", new End());
    const g = new Flow(a);
    return () => g.run({ steps: 0 });
  }
  const Base = kind === "batch" ? M[batchBase] : M[parallelBase];
  class Items extends Base {
    async prep() {
      return Array.from({ length: UNITS }, (_, i) => i);
    }
    async exec(i) {
      return i * 2;
    }
    async post(shared, _p, results) {
      shared.count = results.length;
    }
  }
  const g = new Flow(new Items());
  return () => g.run({});
}

async function langgraph() {
  const { StateGraph, Annotation, START, END } = await import("@langchain/langgraph");
  const State = Annotation.Root({ steps: Annotation({ reducer: (_, b) => b, default: () => 0 }), out: Annotation({ reducer: (_, b) => b, default: () => [] }) });
  const step = (s) => ({ steps: s.steps + 1 });
  let graph = new StateGraph(State);
  if (kind === "chain") {
    for (let i = 0; i < UNITS; i++) graph = graph.addNode(`n${i}`, step);
    graph = graph.addEdge(START, "n0");
    for (let i = 1; i < UNITS; i++) graph = graph.addEdge(`n${i - 1}`, `n${i}`);
    graph = graph.addEdge(`n${UNITS - 1}`, END);
  } else if (kind === "loop") {
    graph = graph
      .addNode("a", step)
      .addNode("b", step)
      .addNode("c", step)
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("b", "c")
      .addConditionalEdges("c", (s) => (s.steps < UNITS ? "a" : END));
  } else if (kind === "batch") {
    // LangGraph has no batch node: one node maps over the items (sequentially, awaiting each).
    graph = graph
      .addNode("items", async () => {
        const out = [];
        for (let i = 0; i < UNITS; i++) out.push(await Promise.resolve(i * 2));
        return { out };
      })
      .addEdge(START, "items")
      .addEdge("items", END);
  } else {
    graph = graph
      .addNode("items", async () => ({ out: await Promise.all(Array.from({ length: UNITS }, async (_, i) => i * 2)) }))
      .addEdge(START, "items")
      .addEdge("items", END);
  }
  const compiled = graph.compile();
  return () => compiled.invoke({ steps: 0 }, { recursionLimit: UNITS * 3 + 10 });
}

const run =
  lib === "langgraph"
    ? await langgraph()
    : lib === "pocketflow"
      ? await kaygraphOrPocketflow("pocketflow", "Flow", "BatchNode", "ParallelBatchNode")
      : await kaygraphOrPocketflow("../dist/graph/index.js", "Graph", "BatchNode", "ParallelBatchNode");

// A 50-node chain takes microseconds: each timed sample runs it many times, so the figure measures the engine,
// not the timer or a cold JIT. (A LangGraph chain run takes milliseconds already.)
const REPEAT = kind === "chain" && lib !== "langgraph" ? Math.max(1, Math.round(50_000 / UNITS)) : 1;
async function sample() {
  for (let r = 0; r < REPEAT; r++) await run();
}
for (let i = 0; i < 10; i++) await sample();
const times = [];
for (let i = 0; i < 15; i++) {
  const t0 = performance.now();
  await sample();
  times.push(performance.now() - t0);
}
process.stdout.write(JSON.stringify({ rate: (UNITS * REPEAT) / (median(times) / 1000), maxRssMb: process.resourceUsage().maxRSS / 1024 }));
