/**
 * `kaygraph init` end to end: every template is scaffolded by the built CLI into a temp dir with this repo as
 * its kaygraph dependency, installed with npm (from the cache when it can), and then must pass its own
 * `npm test`, typecheck, run its main graph with `kaygraph run`, and answer over HTTP from `kaygraph serve`.
 * One install per template, shared by its tests.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { runCli, startCli } from "../helpers/cli.js";

const REPO = path.resolve(import.meta.dirname, "../..");

/** The environment of npm and of the project's own tools: no vitest or kaygraph variables of this run. */
function projectEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith("VITEST") || key.startsWith("KAYGRAPH_") || key === "NODE_ENV" || key === "TEST" || key.startsWith("npm_")) continue;
    env[key] = value;
  }
  return { ...env, CI: "1", NO_COLOR: "1", FORCE_COLOR: "0", npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...extra };
}

/** Runs a command of the project (npm, its bins) to completion. */
async function inProject(cwd: string, command: string, args: string[], env: Record<string, string> = {}, input?: string) {
  const stdin = input === undefined ? { stdin: "ignore" as const } : { input };
  const result = await execa(command, args, { cwd, env: projectEnv(env), extendEnv: false, reject: false, timeout: 120_000, all: true, ...stdin });
  return { exitCode: result.exitCode, output: String(result.all ?? "") };
}

/** Scaffolds `template` with the built CLI and npm install; returns the project directory. */
async function scaffold(template: string, parent: string): Promise<string> {
  const env = { ...projectEnv(), npm_config_user_agent: "npm/e2e" };
  const result = await runCli(["init", "app", "--template", template, "--kaygraph-version", REPO, "--no-git"], { cwd: parent, env, timeout: 120_000 });
  expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
  expect(result.stderr).toContain("Installed dependencies with npm");
  return path.join(parent, "app");
}

/** One scaffolded and installed project per template, shared by the tests of this file. */
const projects = new Map<string, Promise<string>>();
function projectOf(template: string): Promise<string> {
  let project = projects.get(template);
  if (!project) {
    project = mkdtemp(path.join(root, `${template}-`)).then((parent) => scaffold(template, parent));
    projects.set(template, project);
  }
  return project;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
}

/** The checks every template passes. */
interface Case {
  template: string;
  graph: string;
  run: unknown;
  route: string;
  request: unknown;
  expected: Record<string, unknown>;
  /** More `kaygraph run` flags (answers to interrupts). */
  runArgs?: string[];
  /** The sync route's status: 200 with `result` matching `expected`, or 202 with a body matching it. */
  status?: number;
}

const CASES: Case[] = [
  { template: "basic", graph: "process", run: { text: "hello there" }, route: "/api/v1/process", request: { text: "graphs that serve" }, expected: { result: "GRAPHS THAT SERVE" } },
  { template: "background", graph: "report", run: { topics: ["a", "b"], stepMs: 5 }, route: "/api/v1/report", request: { topics: ["q"], stepMs: 5 }, expected: { title: "Report on q" } },
  { template: "streaming", graph: "chat", run: { prompt: "hi", delayMs: 0 }, route: "/api/v1/chat", request: { prompt: "hi", delayMs: 0 }, expected: { finish: "stop" } },
  { template: "production", graph: "process", run: { text: "ship it" }, route: "/api/v2/process", request: { text: "ship it" }, expected: { result: "SHIP IT", version: "2.0" } },
  // Its graph stops to ask: `kaygraph run` takes the answer from --resume; the sync route answers 202 with the waiting task.
  { template: "human-in-the-loop", graph: "approve", run: { topic: "otters" }, runArgs: ["--resume", '{"approved":true}'], route: "/api/v1/approve", request: { topic: "otters" }, status: 202, expected: { status: "interrupted", interrupt: { node: "Review" } } },
];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kaygraph-init-e2e-"));
});
afterAll(async () => {
  if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(root, { recursive: true, force: true });
});

describe.each(CASES)("template $template", (c) => {
  let project: string;
  beforeAll(async () => {
    project = await projectOf(c.template);
  }, 150_000);

  it("is the template, renamed and patched", async () => {
    expect(existsSync(path.join(project, ".gitignore"))).toBe(true);
    expect(existsSync(path.join(project, ".env.example"))).toBe(true);
    expect(existsSync(path.join(project, "_gitignore"))).toBe(false);
    const pkg = JSON.parse(await readFile(path.join(project, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "app", dependencies: { kaygraph: `file:${REPO}` } });
  });

  it("passes its own npm test", async () => {
    const { exitCode, output } = await inProject(project, "npm", ["test"]);
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/Tests +\d+ passed/);
  });

  it("typechecks with its own tsconfig", async () => {
    const { exitCode, output } = await inProject(project, "npm", ["run", "typecheck"]);
    expect(exitCode, output).toBe(0);
  });

  it(`runs its main graph with kaygraph run`, async () => {
    const { exitCode, output } = await inProject(project, path.join(project, "node_modules/.bin/kaygraph"), ["run", c.graph, "--input", JSON.stringify(c.run), ...(c.runArgs ?? []), "--quiet"]);
    expect(exitCode, output).toBe(0);
    expect(JSON.parse(output)).toBeTypeOf("object");
  });

  it("answers over HTTP from kaygraph serve --port 0", async () => {
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd: project, env: projectEnv() });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const headers: Record<string, string> = {};
    if (c.template === "production") {
      // Auth is on: no token is a 401; a token from `kaygraph token` (signed with the secret init wrote to .env) works.
      expect((await postJson(`${base}${c.route}`, c.request)).status).toBe(401);
      const token = await runCli(["token", "--sub", "e2e", "--tier", "basic"], { cwd: project, env: projectEnv() });
      expect(token.exitCode, token.stderr).toBe(0);
      headers.authorization = `Bearer ${token.stdout.trim()}`;
    }
    const res = await postJson(`${base}${c.route}`, c.request, headers);
    expect(res.status, JSON.stringify(res.body)).toBe(c.status ?? 200);
    expect(res.status === 200 ? res.body.result : res.body).toMatchObject(c.expected);
    if (c.template === "production") expect(res.headers.get("ratelimit-policy")).toContain("basic");
  });
});

describe("template background, as a background task", () => {
  it("submits to /async, follows /tasks/{id} and prints the report with scripts/submit.ts", async () => {
    const project = await projectOf("background");
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd: project, env: projectEnv() });
    const base = `http://127.0.0.1:${await server.ready()}`;
    const accepted = await postJson(`${base}/api/v1/report/async`, { topics: ["x"], stepMs: 1 });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({ status: "pending", check_url: `/tasks/${accepted.body.task_id}` });
    const { exitCode, output } = await inProject(project, "npm", ["run", "submit", "--", "queues", "leases"], { KAYGRAPH_URL: base, STEP_MS: "1" });
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/research 2\/2 +researched leases/);
    expect(output).toContain('"title": "Report on queues, leases"');
    const task = await (await fetch(`${base}${accepted.body.check_url}`)).json();
    expect(task).toMatchObject({ status: "completed", result: { title: "Report on x" } });
  });
});

describe("template human-in-the-loop, interrupted and resumed", () => {
  it("waits at review as a task; scripts/review.ts answers with feedback, then approves, with the typed client", async () => {
    const project = await projectOf("human-in-the-loop");
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd: project, env: projectEnv() });
    const base = `http://127.0.0.1:${await server.ready()}`;
    // Over HTTP: interrupted with the draft; a value the resume schema refuses is 422; a valid one completes it.
    const sync = await postJson(`${base}/api/v1/approve`, { topic: "otters" });
    expect(sync.status).toBe(202);
    expect(sync.body.interrupt.value).toEqual({ question: "Publish this draft?", draft: "A short post about otters.", revision: 0 });
    expect((await postJson(`${base}/tasks/${sync.body.id}/resume`, { value: { approved: "yes" } })).status).toBe(422);
    expect((await postJson(`${base}/tasks/${sync.body.id}/resume`, { value: { approved: true } })).status).toBe(202);
    await expect
      .poll(async () => (await (await fetch(`${base}/tasks/${sync.body.id}`)).json()) as Record<string, unknown>, { timeout: 20_000 })
      .toMatchObject({ status: "completed", result: { published: true, revisions: 0 } });
    // The script: feedback on the first draft, then "y" on the second.
    const { exitCode, output } = await inProject(project, "npm", ["run", "review", "--", "sea", "otters"], { KAYGRAPH_URL: base }, "mention rivers\ny\n");
    expect(exitCode, output).toBe(0);
    expect(output).toContain("Publish this draft? (draft 1)\n  A short post about sea otters.");
    expect(output).toContain("Publish this draft? (draft 2)\n  A short post about sea otters. Revised: mention rivers.");
    expect(output).toContain('"published": true');
    expect(output).toContain('"revisions": 1');
  });
});

describe("template streaming, streamed", () => {
  it("streams tokens to scripts/sse-client.ts (SSE) and scripts/ws-client.ts (WebSocket)", async () => {
    const project = await projectOf("streaming");
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd: project, env: projectEnv() });
    const base = `http://127.0.0.1:${await server.ready()}`;
    for (const script of ["sse", "ws"]) {
      const { exitCode, output } = await inProject(project, "npm", ["run", script, "--", "Hi", "there"], { KAYGRAPH_URL: base });
      expect(exitCode, output).toBe(0);
      expect(output).toContain('You said: "Hi there". A kaygraph node streams each token');
      expect(output).toMatch(/\[\d+ tokens, stop\]/);
    }
  });
});

describe("a failing install", () => {
  it("shows npm's error, keeps the files and exits 1", async () => {
    // A registry that knows no package.
    const registry = http.createServer((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end('{"error":"Not found"}');
    });
    await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => new Promise<void>((resolve) => registry.close(() => resolve())));
    const parent = await mkdtemp(path.join(root, "failing-"));
    const env = {
      ...projectEnv(),
      npm_config_user_agent: "npm/e2e",
      npm_config_registry: `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`,
      npm_config_prefer_offline: "false",
      npm_config_prefer_online: "true",
      npm_config_fetch_retries: "0",
    };
    const result = await runCli(["init", "app", "--template", "basic", "--kaygraph-version", REPO, "--no-git"], { cwd: parent, env, timeout: 120_000 });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("Installing dependencies failed [KG_INIT_INSTALL_FAILED]");
    expect(result.stderr).toMatch(/npm install exited with 1:\n.*404/s);
    expect(result.stderr).toContain("The project files are in app; run `npm install` there to finish.");
    expect(existsSync(path.join(parent, "app/graphs/process.ts"))).toBe(true);
  });
});
