import { readFile, stat, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

const require = createRequire(import.meta.url);
const REPO = path.resolve(import.meta.dirname, "../..");
const TSC = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
/** tsx's loader, as a user would run `node --import tsx script.ts`. */
const TSX = pathToFileURL(require.resolve("tsx")).href;

/** Typed graphs: two versions in one file (default and named export), a `-` name and a `_` name in a subfolder. */
const GRAPHS = {
  "graphs/greet.ts": `import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

interface Shared {
  input: { name: string; excited: boolean };
  output?: { greeting: string };
}

class Greet extends Node<Shared> {
  override prep(shared: Shared) {
    return shared.input;
  }
  override exec(input: Shared["input"]) {
    this.emit({ for: input.name });
    return \`Hello, \${input.name}\${input.excited ? "!" : "."}\`;
  }
  override post(shared: Shared, _prep: unknown, greeting: string) {
    shared.output = { greeting };
  }
}

export default defineGraph({
  name: "greet",
  description: "Greets someone",
  input: z.object({ name: z.string().min(1), excited: z.boolean().default(false) }),
  output: z.object({ greeting: z.string() }),
  resume: z.object({ approved: z.boolean(), note: z.string().optional() }),
  graph: () => new Graph(new Greet({ nodeId: "greet" })),
});

export const greetV2 = defineGraph({
  name: "greet",
  version: 2,
  input: z.object({ names: z.array(z.string()) }),
  output: z.object({ count: z.number() }),
  result: (shared: { input: { names: string[] } }) => ({ count: shared.input.names.length }),
  graph: () => new Graph(new Node()),
});
`,
  "graphs/say-hello.ts": `import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

export default defineGraph({
  input: z.object({ to: z.string().default("world") }),
  output: z.object({ said: z.string() }),
  result: (shared: { input: { to: string } }) => ({ said: "hello " + shared.input.to }),
  graph: () => new Graph(new Node()),
});
`,
  "graphs/text/word_count.ts": `import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

export default defineGraph({
  deprecated: true,
  input: z.object({ text: z.string() }),
  output: z.object({ words: z.number().int() }),
  result: (shared: { input: { text: string } }) => ({ words: shared.input.text.split(/\\s+/).filter(Boolean).length }),
  graph: () => new Graph(new Node()),
});
`,
};

const STRICTEST = {
  strict: true,
  exactOptionalPropertyTypes: true,
  noUncheckedIndexedAccess: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  noImplicitReturns: true,
  noImplicitOverride: true,
  noPropertyAccessFromIndexSignature: true,
  verbatimModuleSyntax: true,
  isolatedModules: true,
  skipLibCheck: false,
  noEmit: true,
};

/** A Node project (NodeNext, @types/node) and a web one (Bundler, DOM lib, no Node types). */
const TSCONFIGS = {
  "tsconfig.json": { compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022"], types: ["node"], ...STRICTEST }, files: ["usage.ts"] },
  "tsconfig.web.json": { compilerOptions: { target: "ES2022", module: "ESNext", moduleResolution: "Bundler", lib: ["ES2022", "DOM"], types: [], ...STRICTEST }, files: ["usage-web.ts"] },
  "tsconfig.bad.json": { extends: "./tsconfig.json", files: ["usage.ts", "bad.ts"] },
};

const USAGE = `import { createClient, KaygraphApiError, type GreetV1Output, type GreetV1Resume, type RunEvent, type Task } from "./.kaygraph/generated/client.js";
import { greetV1, handlers, routes, type GreetV2Input } from "./.kaygraph/generated/routes.js";

const client = createClient({ baseUrl: "http://127.0.0.1:8000", token: () => process.env["API_TOKEN"] });

export async function callApi(): Promise<void> {
  const out: GreetV1Output = await client.greet.v1.run({ name: "Ada" });
  const latest: { count: number } = await client.greet.latest.run({ names: ["a"] });
  const said: string = (await client.sayHello.v1.run({})).said;
  const accepted = await client.graphs.wordCount.v1.submit({ text: "a b" }, { idempotencyKey: "k1" });
  const task: Task<GreetV1Output> = await client.task<GreetV1Output>(accepted.task_id);
  const page = await client.tasks({ status: "completed", limit: 10 });
  const events: RunEvent<GreetV1Output>[] = [];
  for await (const event of client.greet.v1.stream({ name: "Ada", excited: true })) {
    events.push(event);
    if (event.type === "result") console.log(event.result.greeting.toUpperCase());
  }
  for await (const event of client.subscribe<GreetV1Output>(accepted.task_id, { after: 2 })) {
    if (event.type === "retry") console.log(event.delay_ms);
    if (event.type === "result") console.log(event.result.greeting);
  }
  // resume() takes the graph's resume schema; a graph without one takes any JSON. state() is the checkpoint.
  const resumed: Task<GreetV1Output> = await client.greet.v1.resume(accepted.task_id, { approved: true }, { idempotencyKey: "r1" });
  const answered: GreetV1Resume = { approved: false, note: "later" };
  await client.graphs.greet.v1.resume(resumed.id, answered);
  await client.sayHello.v1.resume(resumed.id, ["anything", 1]);
  const state = await client.greet.v1.state(resumed.id);
  console.log(state.next_node, state.step);
  try {
    await client.cancel(accepted.task_id);
  } catch (error) {
    if (error instanceof KaygraphApiError) console.log(error.status, error.error_code, error.request_id, error.details);
  }
  console.log(out.greeting, latest.count, said, task.result?.greeting, page.next_cursor, events.length);
}

export async function callHandlers(): Promise<void> {
  const out = await greetV1({ name: "Ada" }, { requestId: "r1", timeoutMs: 1000 });
  const input: GreetV2Input = { names: [] };
  const { count } = await handlers.greet.latest(input);
  console.log(out.greeting, count, routes.map((r) => r.method + " " + r.path + " " + r.kind));
}
`;

const USAGE_WEB = `import { createClient, type GreetV1Output } from "./.kaygraph/generated/client.js";

const client = createClient({ baseUrl: "/api-proxy", fetch: (url, init) => fetch(url, init) });
export const greet = (name: string): Promise<GreetV1Output> => client.greet.v1.run({ name });
`;

const BAD = `import { createClient } from "./.kaygraph/generated/client.js";

const client = createClient({ baseUrl: "http://127.0.0.1:8000" });
export const wrong = client.greet.v1.run({ wrong: 1 });
export const wrongResume = client.greet.v1.resume("t1", { approved: "yes" });
`;

/** A project with the typed graphs, tsconfigs and usage files, with @types/node linked as a Node project has it. */
async function project(): Promise<string> {
  const cwd = await tmpProject({ "package.json": PACKAGE_JSON, ...GRAPHS, ...TSCONFIGS, "usage.ts": USAGE, "usage-web.ts": USAGE_WEB });
  await symlink(path.join(REPO, "node_modules", "@types"), path.join(cwd, "node_modules", "@types"), "dir");
  return cwd;
}

const tsc = (cwd: string, config: string) => execa(process.execPath, [TSC, "-p", config], { cwd, reject: false });
const tsx = (cwd: string, script: string, args: string[] = []) => execa(process.execPath, ["--import", TSX, script, ...args], { cwd, reject: false });

describe("kaygraph generate", () => {
  it("writes routes.ts, client.ts and openapi.json; rewrites only what changed; --check and --json", async () => {
    const cwd = await project();
    const first = await runCli(["generate"], { cwd });
    expect(first).toMatchObject({ exitCode: 0, stdout: "" });
    expect(first.stderr).toContain("✓ .kaygraph/generated: wrote routes.ts, client.ts, openapi.json");
    const dir = path.join(cwd, ".kaygraph", "generated");
    const texts = await Promise.all(["routes.ts", "client.ts", "openapi.json"].map((f) => readFile(path.join(dir, f), "utf8")));
    expect(texts[0]).toMatch(/^\/\/ generated by kaygraph — do not edit\./);
    expect(texts[0]).toContain('import greetV1Definition, { greetV2 as greetV2Definition } from "../../graphs/greet.js";');
    expect(texts[0]).toContain('import wordCountV1Definition from "../../graphs/text/word_count.js";');
    expect(JSON.parse(texts[2]!)).toMatchObject({ openapi: "3.1.0", paths: { "/api/v2/greet": {}, "/api/v1/say-hello/stream": {} } });
    const mtime = (await stat(path.join(dir, "client.ts"))).mtimeMs;

    const again = await runCli(["generate", "--json"], { cwd });
    expect(again.stderr).toContain("routes.ts, client.ts, openapi.json unchanged");
    expect(JSON.parse(again.stdout)).toMatchObject({ dir, files: [{ name: "routes.ts", changed: false }, { name: "client.ts", changed: false }, { name: "openapi.json", changed: false }] });
    expect((await stat(path.join(dir, "client.ts"))).mtimeMs).toBe(mtime);
    expect(await Promise.all(["routes.ts", "client.ts", "openapi.json"].map((f) => readFile(path.join(dir, f), "utf8")))).toEqual(texts);
    expect(await runCli(["generate", "--check"], { cwd })).toMatchObject({ exitCode: 0 });

    await writeFile(path.join(cwd, "graphs/say-hello.ts"), GRAPHS["graphs/say-hello.ts"].replace("input: z.object", 'description: "Says hello",\n  input: z.object'));
    const stale = await runCli(["generate", "--check"], { cwd });
    expect(stale.exitCode).toBe(1);
    expect(stale.stderr).toContain("out of date in .kaygraph/generated: routes.ts, client.ts, openapi.json");
    expect(await readFile(path.join(dir, "routes.ts"), "utf8")).toBe(texts[0]);
  });

  it("the generated code compiles under tsc --strict (NodeNext and Bundler); a wrong input fails at its line", async () => {
    const cwd = await project();
    expect((await runCli(["generate"], { cwd })).exitCode).toBe(0);
    const node = await tsc(cwd, "tsconfig.json");
    expect(node.stdout + node.stderr).toBe("");
    expect(node.exitCode).toBe(0);
    const web = await tsc(cwd, "tsconfig.web.json");
    expect(web.stdout + web.stderr).toBe("");
    expect(web.exitCode).toBe(0);

    await writeFile(path.join(cwd, "bad.ts"), BAD);
    const bad = await tsc(cwd, "tsconfig.bad.json");
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stdout.trim().split("\n")).toEqual([
      expect.stringMatching(/^bad\.ts\(4,\d+\): error TS2353: Object literal may only specify known properties, and 'wrong' does not exist in type '\{ name: string; excited\?: boolean/),
      // A resume value of the wrong type for the graph's `resume` schema fails at its line too.
      expect.stringMatching(/^bad\.ts\(5,\d+\): error TS2322: Type 'string' is not assignable to type 'boolean'/),
    ]);
    // Three full type-checks (lib checks on, @types/node included) take 30–60 s on a slow 2-core machine.
  }, 240_000);

  it("handlers run in-process under tsx, with typed input, events and validation errors", async () => {
    const cwd = await project();
    expect((await runCli(["generate"], { cwd })).exitCode).toBe(0);
    await writeFile(
      path.join(cwd, "handlers.ts"),
      `import { greetV1, handlers } from "./.kaygraph/generated/routes.js";
const events: string[] = [];
const out = await greetV1({ name: "Ada", excited: true }, { onEvent: (e) => events.push(e.type) });
const latest = await handlers.greet.latest({ names: ["a", "b"] });
const code = await greetV1({ name: "" }).catch((e: { code: string }) => e.code);
console.log(JSON.stringify({ out, latest, events, code }));
`,
    );
    const result = await tsx(cwd, "handlers.ts");
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      out: { greeting: "Hello, Ada!" },
      latest: { count: 2 },
      events: ["start", "node_start", "data", "node_end", "result"],
      code: "VALIDATION_ERROR",
    });
  });

  it("the client calls a real `kaygraph serve`: run() returns the output, invalid input is a KaygraphApiError, per-graph task()/cancel()", async () => {
    const cwd = await project();
    expect((await runCli(["generate"], { cwd })).exitCode).toBe(0);
    await writeFile(
      path.join(cwd, "client-run.ts"),
      `import { createClient, KaygraphApiError } from "./.kaygraph/generated/client.js";
const client = createClient({ baseUrl: process.argv[2]! });
const out = await client.greet.v1.run({ name: "Ada" }, { requestId: "e2e-1" });
const latest = await client.greet.latest.run({ names: ["x", "y", "z"] });
const failure = await client.greet.v1.run({ name: 5 } as never).catch((e: unknown) => e);
const error = failure instanceof KaygraphApiError ? { status: failure.status, code: failure.error_code, id: failure.request_id, details: Array.isArray(failure.details) } : String(failure);
const codeOf = (e: unknown) => (e instanceof KaygraphApiError ? e.error_code : String(e));
const accepted = await client.graphs.wordCount.v1.submit({ text: "one two three" });
let task = await client.graphs.wordCount.v1.task(accepted.task_id);
for (const deadline = Date.now() + 10_000; task.status !== "completed" && Date.now() < deadline; ) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  task = await client.graphs.wordCount.v1.task(accepted.task_id);
}
const words: number | undefined = task.result?.words;
const otherGraph = await client.greet.v1.task(accepted.task_id).then(() => "found", codeOf);
const cancelOther = await client.greet.v1.cancel(accepted.task_id).then(() => "cancelled", codeOf);
const cancelEnded = await client.graphs.wordCount.v1.cancel(accepted.task_id).then(() => "cancelled", codeOf);
console.log(JSON.stringify({ out, latest, error, words, otherGraph, cancelOther, cancelEnded }));
`,
    );
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const port = await server.ready();
    const result = await tsx(cwd, "client-run.ts", [`http://127.0.0.1:${port}`]);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      out: { greeting: "Hello, Ada." },
      latest: { count: 3 },
      error: { status: 422, code: "VALIDATION_ERROR", id: expect.any(String), details: true },
      // Per-graph task calls: typed result; another graph's task is NOT_FOUND and never cancelled; an ended one is a CONFLICT.
      words: 3,
      otherGraph: "NOT_FOUND",
      cancelOther: "NOT_FOUND",
      cancelEnded: "CONFLICT",
    });
  });
});
