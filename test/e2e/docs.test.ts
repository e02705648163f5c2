/**
 * Every code block of README.md and docs/*.md is exercised, so the docs cannot rot:
 * - `ts` blocks: all typechecked together (strict) in a project with the example graphs; blocks that define
 *   graphs become that project's graph files (and so are loaded and run by the `sh` commands below); other
 *   blocks run with tsx and must exit 0 — except those that talk to a server through the generated client,
 *   which are typechecked against freshly generated code;
 * - `sh` blocks: every `kaygraph` command is parsed by the real CLI; `run`, `graphs`, `config`, `token`,
 *   `generate` are executed (exit 0); `serve`, `dev` and `worker` are started until ready, then stopped;
 *   `curl` lines must name a documented route; `npm`, `cd`, `export`, `docker` and `openssl` lines are
 *   checked for shape only;
 * - `json` blocks: parsed.
 */
import { cpSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { createProgram } from "../../src/cli/program.js";
import { runCli, startCli } from "../helpers/cli.js";
import { codeBlocks, shellCommands, shellWords, type CodeBlock } from "../helpers/doc-blocks.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { deleteKeys } from "../helpers/redis.js";
import { tmpProject } from "../helpers/tmp-project.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOCS = ["README.md", ...readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const TSX = path.join(root, "node_modules/tsx/dist/esm/index.mjs");
const TSC = path.join(root, "node_modules/typescript/bin/tsc");
const SECRET = "docs-test-secret-0123456789-abcdefghijklmnop";
const EXECUTED = new Set(["run", "graphs", "config", "token", "generate"]);
const STARTED = new Set(["serve", "dev", "worker"]);
const SHAPE_ONLY = new Set(["npm", "cd", "export", "docker", "openssl", "echo", "kill"]);
const REDIS_PREFIX = `kg-docs-${process.pid}`;
afterAll(() => deleteKeys(REDIS_PREFIX));
const ROUTE = /^\/(api\/v\d+\/[A-Za-z0-9_-]+(\/async|\/stream)?|tasks(\/[^/]+(\/events)?)?|health|ready|metrics|openapi\.json|docs|ws\/[^/]+)$/;

/** Parses `args` with the real command tree, without running any action. */
async function parseOnly(args: string[]): Promise<void> {
  const program = createProgram();
  for (const command of program.commands) command.action(() => undefined);
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync(["node", "kaygraph", ...args]);
}

/** A project with the example graphs, this doc's graph definitions, and generated code. */
async function projectFor(doc: string, blocks: CodeBlock[]): Promise<string> {
  const cwd = await tmpProject({ "package.json": PACKAGE_JSON, "kaygraph.config.json": { log: { level: "warn" } } });
  cpSync(path.join(root, "examples/hello/graphs"), path.join(cwd, "graphs"), { recursive: true });
  // README commands name the example by its repo path.
  mkdirSync(path.join(cwd, "examples"), { recursive: true });
  symlinkSync(cwd, path.join(cwd, "examples/hello"), "dir");
  blocks.forEach((block, i) => {
    if (block.lang === "ts" && block.code.includes("defineGraph(")) writeFileSync(path.join(cwd, "graphs", `doc-${i}.ts`), block.code);
  });
  writeFileSync(
    path.join(cwd, "tsconfig.json"),
    JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: true, types: ["node"], typeRoots: [path.join(root, "node_modules/@types")], noEmit: true }, include: ["*.ts", "graphs/**/*.ts"] }),
  );
  const generated = await runCli(["generate"], { cwd });
  expect(generated.exitCode, `${doc}: kaygraph generate\n${generated.stderr}`).toBe(0);
  return cwd;
}

describe.each(DOCS)("code blocks of %s", (doc) => {
  const blocks = codeBlocks(readFileSync(path.join(root, doc), "utf8"));

  it("has only ts, sh and json blocks", () => {
    for (const block of blocks) expect(["ts", "sh", "json"], `${doc}:${block.line} block language "${block.lang}"`).toContain(block.lang);
  });

  it("typechecks and runs its ts blocks, runs its sh commands, parses its json", async () => {
    const cwd = await projectFor(doc, blocks);
    const scripts: Array<{ file: string; block: CodeBlock; needsServer: boolean }> = [];
    blocks.forEach((block, i) => {
      if (block.lang !== "ts" || block.code.includes("defineGraph(")) return;
      const file = `block-${i}.ts`;
      writeFileSync(path.join(cwd, file), block.code);
      scripts.push({ file, block, needsServer: block.code.includes(".kaygraph/generated/client") });
    });
    if (blocks.some((b) => b.lang === "ts")) {
      const tsc = await execa(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd, reject: false });
      expect(tsc.exitCode, `${doc}: tsc\n${tsc.stdout}`).toBe(0);
    }
    for (const script of scripts.filter((s) => !s.needsServer)) {
      const run = await execa(process.execPath, ["--import", TSX, script.file], { cwd, reject: false, timeout: 30_000 });
      expect(run.exitCode, `${doc}:${script.block.line} ran with ${run.stderr}`).toBe(0);
    }
    for (const block of blocks.filter((b) => b.lang === "json")) expect(() => JSON.parse(block.code), `${doc}:${block.line}`).not.toThrow();
    for (const block of blocks.filter((b) => b.lang === "sh")) await runShellBlock(doc, block, cwd);
  });
});

async function runShellBlock(doc: string, block: CodeBlock, cwd: string): Promise<void> {
  const env: Record<string, string> = { KAYGRAPH_SECRET_KEY: SECRET };
  for (const command of shellCommands(block.code)) {
    const where = `${doc}:${block.line}: ${command}`;
    const piped = /^echo\s+'([^']*)'\s*\|\s*(.*)$/.exec(command);
    const words = shellWords(piped ? (piped[2] as string) : command);
    let [program, ...args] = words;
    if (program === "node" && args[0] === "bin/kaygraph.js") [program, ...args] = ["kaygraph", ...args.slice(1)];
    if (program === "export") {
      // Let bash expand the value as a reader's shell would (e.g. "$(openssl rand -base64 48)").
      const assignment = /^export\s+([A-Z_][A-Z0-9_]*)=(.*)$/.exec(command);
      expect(assignment, where).not.toBeNull();
      const value = await execa("bash", ["-c", `printf %s ${assignment![2]}`], { env: { ...process.env, ...env } });
      env[assignment![1]!] = value.stdout;
      continue;
    }
    if (program === "curl") {
      const url = args.find((a) => /^(https?:\/\/)?[\w.-]+(:\d+)?\//.test(a) && !a.startsWith("/"));
      expect(url, where).toBeDefined();
      expect(new URL(/^https?:/.test(url!) ? url! : `http://${url}`).pathname, where).toMatch(ROUTE);
      continue;
    }
    if (program !== "kaygraph") {
      expect(SHAPE_ONLY.has(program ?? ""), `${where}: unknown program in a docs shell block`).toBe(true);
      continue;
    }
    await parseOnly(args).catch((error: unknown) => {
      throw new Error(`${where}: the CLI rejects it: ${(error as Error).message}`);
    });
    const name = args[0] ?? "";
    // Redis from the docs' example addresses is replaced by the local one.
    const runEnv = { ...env, ...(env.KAYGRAPH_REDIS_URL && { KAYGRAPH_REDIS_URL: "redis://127.0.0.1:6379", KAYGRAPH_REDIS_PREFIX: REDIS_PREFIX }) };
    if (EXECUTED.has(name)) {
      const r = await runCli(args, { cwd, env: runEnv, input: piped?.[1] });
      expect(r.exitCode, `${where}\n${r.stderr}`).toBe(0);
    } else if (STARTED.has(name)) {
      const withPort = name === "worker" ? args : [...args.filter((a, i) => a !== "--port" && args[i - 1] !== "--port"), "--port", "0", "--host", "127.0.0.1"];
      const child = startCli(withPort, { cwd, env: runEnv });
      await child.waitFor(name === "worker" ? "kaygraph: worker ready" : /kaygraph: ready port=\d+/, 60_000);
      await child.stop();
    }
  }
}
