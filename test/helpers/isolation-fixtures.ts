/** Graphs that misbehave on purpose, for the run-isolation e2e tests and bench. */
import { PACKAGE_JSON } from "./fixtures.js";

const HEADER = `import { appendFileSync } from "node:fs";
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";
`;

/** `fast`: answers with the worker's pid at once. */
export const FAST_GRAPH = `${HEADER}
class Fast extends Node {
  post(shared) { shared.output = { pid: process.pid, text: shared.input.text }; }
}
export default defineGraph({ input: z.object({ text: z.string().default("") }), output: z.object({ pid: z.number(), text: z.string() }), graph: () => new Graph(new Fast()) });
`;

/** `spin`: a node that never yields, with a 2 s timeout (sync) and a 3 s task timeout, tried twice as a task. */
export const SPIN_GRAPH = `${HEADER}
class Spin extends Node {
  exec() { for (;;) {} }
}
export default defineGraph({ input: z.object({}), output: z.object({}), timeoutMs: 2000, taskTimeoutMs: 3000, retry: { attempts: 2, backoff: 10 }, graph: () => new Graph(new Spin()) });
`;

/** `forever`: a node that never yields and has no timeout (only a cancel ends it); its task id goes to TASK_LOG.forever first. */
export const FOREVER_GRAPH = `${HEADER}
class Forever extends Node {
  prep() { appendFileSync(process.env.TASK_LOG + ".forever", this.context.taskId + "\\n"); }
  exec() { for (;;) {} }
}
export default defineGraph({ input: z.object({}), output: z.object({}), graph: () => new Graph(new Forever()) });
`;

/** `cpu`: busy for `ms` without yielding, then one line "<task id>" in the side-effect log (env TASK_LOG). */
export const CPU_GRAPH = `${HEADER}
class Cpu extends Node {
  prep(shared) { return shared.input.ms; }
  exec(ms) {
    const until = Date.now() + ms;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    appendFileSync(process.env.TASK_LOG, this.context.taskId + "\\n");
    return x > 0;
  }
  post(shared) { shared.output = { done: true }; }
}
export default defineGraph({
  input: z.object({ ms: z.number().int().min(0) }),
  output: z.object({ done: z.boolean() }),
  graph: () => new Graph(new Cpu()),
});
`;

/** `leak`: keeps every allocation until its thread's heap is gone. */
export const LEAK_GRAPH = `${HEADER}
const kept = [];
class Leak extends Node {
  async exec() {
    for (;;) {
      kept.push(new Array(100000).fill(Math.random()));
      if (kept.length % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
export default defineGraph({ input: z.object({}), output: z.object({}), graph: () => new Graph(new Leak()) });
`;

/** `bye`: calls process.exit(1) mid-run. */
export const EXIT_GRAPH = `${HEADER}
class Bye extends Node {
  exec() { process.exit(1); }
}
export default defineGraph({ input: z.object({}), output: z.object({}), graph: () => new Graph(new Bye()) });
`;

/** A project with every misbehaving graph, 2 run threads per worker and a 64 MB thread heap. */
export function isolationProject(config: Record<string, unknown> = {}) {
  return {
    "package.json": PACKAGE_JSON,
    "graphs/fast.ts": FAST_GRAPH,
    "graphs/spin.ts": SPIN_GRAPH,
    "graphs/forever.ts": FOREVER_GRAPH,
    "graphs/cpu.ts": CPU_GRAPH,
    "graphs/leak.ts": LEAK_GRAPH,
    "graphs/bye.ts": EXIT_GRAPH,
    "kaygraph.config.json": { threads: { count: 2, maxHeapMb: 64 }, tasks: { leaseMs: 3000, concurrency: 4 }, log: { level: "warn" }, ...config },
  };
}
