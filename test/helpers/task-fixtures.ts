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

/**
 * `approve`: Draft → Review (asks a person with `this.interrupt`) → Publish; every node appends
 * "<node> <task id> <pid>" to the side-effect log (env TASK_LOG) when its step completes.
 * `three`: One → Two → Three; Three kills its own process the first time (a marker file next to the log).
 */
export const DURABLE_GRAPHS = {
  "graphs/approve.ts": `
import { appendFileSync } from "node:fs";
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

const log = (node, ctx) => appendFileSync(process.env.TASK_LOG, node + " " + (ctx.taskId ?? "-") + " " + process.pid + "\\n");

class Draft extends Node {
  post(shared) { shared.draft = "A post about " + shared.input.topic; log("Draft", this.context); }
}
class Review extends Node {
  post(shared) {
    const answer = this.interrupt({ question: "Publish this draft?", draft: shared.draft });
    shared.answer = answer;
    log("Review", this.context);
    return answer.approved ? "publish" : "drop";
  }
}
class Publish extends Node {
  post(shared) { shared.output = { published: shared.answer.approved, note: shared.answer.note, draft: shared.draft }; log("Publish", this.context); }
}
export default defineGraph({
  input: z.object({ topic: z.string() }),
  output: z.object({ published: z.boolean(), note: z.string(), draft: z.string() }),
  resume: z.object({ approved: z.boolean(), note: z.string().default("") }),
  graph: () => {
    const draft = new Draft();
    const review = draft.next(new Review());
    const publish = new Publish();
    review.on("publish", publish).on("drop", publish);
    return new Graph(draft);
  },
});
`,
  "graphs/three.ts": `
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

const log = (node, ctx) => appendFileSync(process.env.TASK_LOG, node + " " + ctx.taskId + " " + process.pid + "\\n");
class Step extends Node {
  post(shared) { shared.seen = [...(shared.seen ?? []), this.nodeId]; log(this.nodeId, this.context); }
}
class Crash extends Node {
  post(shared) {
    const marker = process.env.TASK_LOG + ".crashed";
    if (!existsSync(marker)) { writeFileSync(marker, "1"); process.kill(process.pid, "SIGKILL"); }
    shared.output = { seen: [...shared.seen, "Three"] };
    log("Three", this.context);
  }
}
export default defineGraph({
  input: z.object({}),
  output: z.object({ seen: z.array(z.string()) }),
  graph: () => {
    const one = new Step({ nodeId: "One" });
    one.next(new Step({ nodeId: "Two" })).next(new Crash({ nodeId: "Three" }));
    return new Graph(one);
  },
});
`,
};
