/** Graph projects for the durable-task e2e tests. */
import { PACKAGE_JSON } from "./fixtures.js";

/**
 * `work`: sleeps `ms`, then appends "<task id> <pid>" to the side-effect log (set by env TASK_LOG).
 * `poison` kills its own process mid-run; `failTimes` fails the first N attempts (retries with backoff).
 */
export const WORK_GRAPH = `
import { appendFileSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

class Work extends Node {
  prep(shared) { return shared.input; }
  async exec(input) {
    if (input.poison) process.kill(process.pid, "SIGKILL");
    if (input.failTimes) {
      const counter = process.env.TASK_LOG + "." + input.tag + ".attempts";
      const n = existsSync(counter) ? Number(readFileSync(counter, "utf8")) + 1 : 1;
      writeFileSync(counter, String(n));
      appendFileSync(process.env.TASK_LOG + ".times", input.tag + " " + Date.now() + "\\n");
      if (n <= input.failTimes) throw new Error("planned failure " + n);
    }
    await new Promise((resolve, reject) => {
      const t = setTimeout(resolve, input.ms);
      this.signal.addEventListener("abort", () => { clearTimeout(t); reject(new Error("aborted")); });
    });
    appendFileSync(process.env.TASK_LOG, this.context.taskId + " " + process.pid + "\\n");
    return input.tag;
  }
  post(shared, _p, tag) { shared.output = { tag }; }
}

export default defineGraph({
  input: z.object({ tag: z.string(), ms: z.number().int().min(0).default(50), poison: z.boolean().default(false), failTimes: z.number().int().min(0).default(0) }),
  output: z.object({ tag: z.string() }),
  retry: { attempts: 3, backoff: 200 },
  graph: () => new Graph(new Work()),
});
`;

/** A project with the `work` graph, short leases (fast recovery) and the given extra settings. */
export function taskProject(config: Record<string, unknown> = {}) {
  return {
    "package.json": PACKAGE_JSON,
    "graphs/work.ts": WORK_GRAPH,
    "kaygraph.config.json": { tasks: { leaseMs: 1000, maxLost: 2, concurrency: 4 }, log: { level: "warn" }, ...config },
  };
}
