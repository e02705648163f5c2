/** Small graph projects for e2e tests, as file trees for `tmpProject`. */

/** package.json of a test project: an ES-module package like `kaygraph init` makes. */
export const PACKAGE_JSON = { name: "kaygraph-test-project", private: true, type: "module" };

/** A graph that echoes text, optionally waiting, failing or streaming chunks. */
export const ECHO_GRAPH = `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

class Echo extends Node {
  prep(shared) { return shared.input; }
  async exec(input) {
    if (input.fail) throw new Error("echo was told to fail");
    for (let i = 0; i < input.chunks; i++) this.emit({ i });
    if (input.waitMs) {
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, input.waitMs);
        this.signal.addEventListener("abort", () => { clearTimeout(t); reject(new Error("aborted")); });
      });
    }
    return input.text;
  }
  post(shared, _p, text) { shared.output = { text }; }
}

export default defineGraph({
  description: "Echoes its input",
  input: z.object({ text: z.string(), waitMs: z.number().int().min(0).default(0), fail: z.boolean().default(false), chunks: z.number().int().min(0).default(0) }),
  output: z.object({ text: z.string() }),
  graph: () => new Graph(new Echo({ nodeId: "echo" })),
});
`;

/** A branching loop for mermaid and --events tests. */
export const LOOP_GRAPH = `
import { END, Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

class Check extends Node {
  post(shared) { shared.n += 1; return shared.n < shared.input.times ? "again" : "stop"; }
}
class Finish extends Node {
  post(shared) { shared.output = { n: shared.n }; return "done"; }
}

export default defineGraph({
  name: "loop",
  version: 2,
  description: "Loops n times",
  input: z.object({ times: z.number().int().min(1) }),
  output: z.object({ n: z.number() }),
  shared: (input) => ({ input, n: 0 }),
  graph: () => {
    const check = new Check({ nodeId: "check" });
    const finish = new Finish({ nodeId: "finish" });
    check.on("again", check).on("stop", finish);
    finish.on("done", END);
    return new Graph(check);
  },
});
`;

/** The default test project: echo and loop graphs. */
export function basicProject(extra: Record<string, string | object> = {}): Record<string, string | object> {
  return { "package.json": PACKAGE_JSON, "graphs/echo.ts": ECHO_GRAPH, "graphs/loop.ts": LOOP_GRAPH, ...extra };
}
