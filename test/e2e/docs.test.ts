/**
 * Every code block of README.md and docs/*.md is exercised, so the docs cannot rot:
 * - `ts` blocks: all typechecked together (strict) in a project with the example graphs; blocks that define
 *   graphs become that project's graph files (and so are loaded and run by the `sh` commands below); other
 *   blocks run with tsx and must exit 0 — except those that talk to a server through the generated client,
 *   which are typechecked against freshly generated code;
 * - `sh` blocks run in order, as a reader would type them, in a stand-in for the clone (a `checkout/` folder
 *   with the example project) whose parent holds what `init ../x` creates. A `cd` and the servers started
 *   last until the next `## ` section. `kaygraph` (also as `npx kaygraph`, `node bin/kaygraph.js` or an
 *   `npm run` script that calls it) is parsed by the real CLI, then: `run`, `graphs`, `config`, `token`,
 *   `generate` and `init` are executed (exit 0); `serve` and `dev` are started on a free port and stay up
 *   for the `curl` lines after them; `worker` is started until ready. `curl` lines are sent to that server
 *   (or to a `kaygraph serve` started for them when the doc assumes one is running) and must answer 2xx,
 *   or the status a trailing `# 401` comment names. What cannot run here is checked for shape only, each
 *   with its reason in SHAPE_ONLY;
 * - `json` blocks: parsed; `text` blocks are pictures (diagrams), not code.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { createProgram } from "../../src/cli/program.js";
import { BIN, runCli, startCli, testEnv, type CliHandle } from "../helpers/cli.js";
import { codeBlocks, shellLines, shellWords, type CodeBlock } from "../helpers/doc-blocks.js";
import { PACKAGE_JSON } from "../helpers/fixtures.js";
import { deleteKeys } from "../helpers/redis.js";
import { linkPackages, tmpProject, writeTree } from "../helpers/tmp-project.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DOCS = ["README.md", ...readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const TSX = path.join(root, "node_modules/tsx/dist/esm/index.mjs");
const TSC = path.join(root, "node_modules/typescript/bin/tsc");
const SECRET = "docs-test-secret-0123456789-abcdefghijklmnop";
const EXECUTED = new Set(["run", "graphs", "config", "token", "generate", "init"]);
const SERVERS = new Set(["serve", "dev"]);
/** Ports the docs' curl lines use for a server started without `--port`. */
const DEFAULT_PORT: Record<string, number> = { serve: 8000, dev: 3000 };
/** Programs whose lines are checked for shape only, and why they are not run. */
const SHAPE_ONLY: Record<string, string> = {
  // `npm ci`, `npm run build`, `npm test` rebuild and retest this checkout, which is what the suite itself
  // does; `npm pack` is run by test/e2e/init-pack.test.ts and installs by test/e2e/init.test.ts.
  npm: "installs, builds or packs the checkout (covered by the suite itself and the init e2e tests)",
  // No Docker daemon here; test/unit/init/templates.test.ts checks the Dockerfile.
  docker: "needs a Docker daemon",
  // Only as `export X="$(openssl …)"`, which bash expands; `echo` only piped into kaygraph.
  openssl: "runs inside an export, expanded by bash",
  echo: "runs as the input piped into a kaygraph command",
  // Signals a reader's server by pid; test/e2e/serve.test.ts sends SIGHUP/SIGTERM to a real one.
  kill: "needs the pid of a reader's server",
};
const REDIS_PREFIX = `kg-docs-${process.pid}`;
afterAll(() => deleteKeys(REDIS_PREFIX));
const ROUTE = /^\/(api\/v\d+\/[A-Za-z0-9_-]+(\/async|\/stream)?|tasks(\/[^/]+(\/events)?)?|health|ready|metrics|openapi\.json|docs|ws\/[^/]+)$/;
/** A local server address as the docs write it (`localhost:3000/…`, `http://localhost:8000/…`). */
const LOCAL_URL = /(?:https?:\/\/)?(?:localhost|127\.0\.0\.1)(?::(\d+))?(?=\/)/g;

/** Parses `args` with the real command tree, without running any action. */
async function parseOnly(args: string[]): Promise<void> {
  const program = createProgram();
  for (const command of program.commands) command.action(() => undefined);
  program.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  await program.parseAsync(["node", "kaygraph", ...args]);
}

/**
 * A stand-in for the reader's clone: `<tmp>/checkout` with the example graphs, this doc's graph definitions
 * and generated code; `init ../x` in the docs writes next to it, inside the same temp folder.
 */
async function projectFor(doc: string, blocks: CodeBlock[]): Promise<string> {
  const home = await tmpProject({}, { linkKaygraph: false });
  const cwd = path.join(home, "checkout");
  await writeTree(cwd, { "package.json": PACKAGE_JSON, "kaygraph.config.json": { log: { level: "warn" } } });
  await linkPackages(cwd);
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

  it("has only ts, sh, json and text blocks", () => {
    for (const block of blocks) expect(["ts", "sh", "json", "text"], `${doc}:${block.line} block language "${block.lang}"`).toContain(block.lang);
  });

  it("typechecks and runs its ts blocks, runs its sh commands, parses its json", { timeout: 240_000 }, async () => {
    const cwd = await projectFor(doc, blocks);
    const scripts: Array<{ file: string; block: CodeBlock; needsServer: boolean }> = [];
    blocks.forEach((block, i) => {
      if (block.lang !== "ts" || block.code.includes("defineGraph(")) return;
      const file = `block-${i}.ts`;
      writeFileSync(path.join(cwd, file), block.code);
      // A client of a reader's running server (the generated client, or kaygraph/client at a localhost URL) is
      // typechecked only.
      scripts.push({ file, block, needsServer: /\.kaygraph\/generated\/client|https?:\/\/localhost[:/]/.test(block.code) });
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
    const reader = new Reader(doc, cwd);
    for (const block of blocks.filter((b) => b.lang === "sh")) await reader.runBlock(block);
    await reader.endSection();
  });
});

/** A server a doc started (or one started for its curl lines), with the port the doc's URLs use for it. */
interface DocServer {
  handle: CliHandle;
  port: number;
  docPort: number;
}

/** Runs a doc's shell commands in order, keeping what a reader's terminal keeps: the folder, exports, a server. */
class Reader {
  private cwd: string;
  private env: Record<string, string> = {};
  private server: DocServer | undefined;
  private section: string | undefined;

  constructor(
    private readonly doc: string,
    private readonly checkout: string,
  ) {
    this.cwd = checkout;
    this.resetEnv();
  }

  async runBlock(block: CodeBlock): Promise<void> {
    if (block.section !== this.section) await this.endSection();
    this.section = block.section;
    for (const { command, note } of shellLines(block.code)) await this.runCommand(`${this.doc}:${block.line}: ${command}`, command, note);
  }

  /** A new `## ` section starts from the checkout with a fresh environment and no server. */
  async endSection(): Promise<void> {
    await this.server?.handle.stop();
    this.server = undefined;
    this.cwd = this.checkout;
    this.resetEnv();
  }

  private resetEnv(): void {
    this.env = { KAYGRAPH_SECRET_KEY: SECRET };
  }

  /** The environment of spawned commands; Redis from the docs' example addresses is replaced by the local one. */
  private runEnv(): Record<string, string> {
    return { ...this.env, ...(this.env.KAYGRAPH_REDIS_URL && { KAYGRAPH_REDIS_URL: "redis://127.0.0.1:6379", KAYGRAPH_REDIS_PREFIX: REDIS_PREFIX }) };
  }

  private async runCommand(where: string, command: string, note: string): Promise<void> {
    const piped = /^echo\s+'([^']*)'\s*\|\s*(.*)$/.exec(command);
    let [program, ...args] = shellWords(piped ? (piped[2] as string) : command);
    if (program === "node" && args[0] === "bin/kaygraph.js") [program, ...args] = ["kaygraph", ...args.slice(1)];
    if (program === "npx" && args[0] === "kaygraph") [program, ...args] = ["kaygraph", ...args.slice(1)];
    if (program === "npm" && args[0] === "run") {
      // `npm run dev` in a project runs its script; follow it when that script is a kaygraph command.
      const script = this.packageScript(args[1] ?? "");
      if (script?.startsWith("kaygraph ")) [program, ...args] = shellWords(script);
    }
    if (program === "export") return this.export(where, command);
    if (program === "cd") {
      const target = path.resolve(this.cwd, args[0] ?? "");
      expect(existsSync(target), `${where}: no such folder ${target}`).toBe(true);
      this.cwd = target;
      return;
    }
    if (program === "curl") return this.curl(where, command, args, note);
    if (program !== "kaygraph") {
      expect(Object.keys(SHAPE_ONLY), `${where}: unknown program in a docs shell block`).toContain(program ?? "");
      return;
    }
    await parseOnly(args).catch((error: unknown) => {
      throw new Error(`${where}: the CLI rejects it: ${(error as Error).message}`);
    });
    const name = args[0] ?? "";
    if (name === "init") return this.init(where, args);
    if (EXECUTED.has(name)) {
      const r = await runCli(args, { cwd: this.cwd, env: this.runEnv(), input: piped?.[1] });
      expect(r.exitCode, `${where}\n${r.stderr}`).toBe(0);
    } else if (SERVERS.has(name)) {
      await this.startServer(where, args);
    } else if (name === "worker") {
      const child = startCli(args, { cwd: this.cwd, env: this.runEnv() });
      await child.waitFor("kaygraph: worker ready", 60_000);
      await child.stop();
    }
  }

  private packageScript(name: string): string | undefined {
    const file = path.join(this.cwd, "package.json");
    if (!existsSync(file)) return undefined;
    return (JSON.parse(readFileSync(file, "utf8")) as { scripts?: Record<string, string> }).scripts?.[name];
  }

  /** Lets bash expand the value as a reader's shell would (e.g. "$(openssl rand -base64 48)"). */
  private async export(where: string, command: string): Promise<void> {
    const assignment = /^export\s+([A-Z_][A-Z0-9_]*)=(.*)$/.exec(command);
    expect(assignment, where).not.toBeNull();
    const value = await execa("bash", ["-c", `printf %s ${assignment![2]}`], { env: { ...process.env, ...this.env } });
    this.env[assignment![1]!] = value.stdout;
  }

  /**
   * `kaygraph init`, as written, plus `--no-install --no-git`: dependencies are linked from this checkout
   * instead (installing and committing are tested by test/e2e/init.test.ts). `$PWD` is the clone: this repo.
   */
  private async init(where: string, args: string[]): Promise<void> {
    const withRepo = args.map((a) => a.replace(/^\$PWD$/, root));
    const versionAt = withRepo.indexOf("--kaygraph-version");
    const dependency = versionAt >= 0 ? withRepo[versionAt + 1] : undefined;
    if (dependency && /\.(tgz|tar\.gz)$/.test(dependency) && !existsSync(dependency)) {
      // The tarball comes from the `npm pack` before it (shape only here); test/e2e/init-pack.test.ts runs both.
      return;
    }
    const dir = withRepo[1];
    expect(dir && !dir.startsWith("-"), `${where}: init names its directory first`).toBe(true);
    const r = await runCli([...withRepo, "--no-install", "--no-git"], { cwd: this.cwd, env: this.runEnv() });
    expect(r.exitCode, `${where}\n${r.stderr}`).toBe(0);
    await linkPackages(path.resolve(this.cwd, dir!));
  }

  /** Starts `serve`/`dev` on a free port (it replaces the previous server) and waits until it is ready. */
  private async startServer(where: string, args: string[]): Promise<void> {
    await this.server?.handle.stop();
    this.server = undefined;
    const portAt = args.indexOf("--port");
    const docPort = portAt >= 0 ? Number(args[portAt + 1]) : (DEFAULT_PORT[args[0]!] as number);
    const withPort = [...args.filter((_, i) => portAt < 0 || (i !== portAt && i !== portAt + 1)), "--port", "0", "--host", "127.0.0.1"];
    const handle = startCli(withPort, { cwd: this.cwd, env: this.runEnv() });
    const port = await handle.ready(60_000).catch((error: unknown) => {
      throw new Error(`${where}: did not start: ${(error as Error).message}`);
    });
    this.server = { handle, port, docPort };
  }

  /**
   * Sends the curl line to the running server (the docs' host and port rewritten to it), `kaygraph` inside
   * `$(…)` run as the built CLI, and checks the status: 2xx, or the one its `# <status>` comment names.
   */
  private async curl(where: string, command: string, args: string[], note: string): Promise<void> {
    const url = args.find((a) => /^(https?:\/\/)?[\w.-]+(:\d+)?\//.test(a) && !a.startsWith("/"));
    expect(url, where).toBeDefined();
    const parsed = new URL(/^https?:/.test(url!) ? url! : `http://${url}`);
    expect(parsed.pathname, where).toMatch(ROUTE);
    // A doc that shows only the request assumes a server running `kaygraph serve` in its project.
    if (!this.server) await this.startServer(`${where} (the server it assumes)`, ["serve"]);
    const server = this.server!;
    expect(Number(parsed.port || 80), `${where}: the docs' server listens on ${server.docPort}`).toBe(server.docPort);
    const local = command
      .replace(LOCAL_URL, `http://127.0.0.1:${server.port}`)
      .replace(/(^|[\s(])(?:npx\s+)?kaygraph(?=\s)/g, `$1'${process.execPath}' '${BIN}'`);
    // The answer's body goes next to the checkout (inside the test's temp folder), for the failure message.
    const bodyFile = path.join(path.dirname(this.checkout), "curl-body");
    rmSync(bodyFile, { force: true });
    const sent = await execa("sh", ["-c", `${local} -sS --max-time 60 -o '${bodyFile}' -w '%{http_code}'`], {
      cwd: this.cwd,
      env: { ...process.env, ...testEnv(this.runEnv()) },
      reject: false,
    });
    const body = existsSync(bodyFile) ? readFileSync(bodyFile, "utf8") : "";
    const detail = `${where}\nsent: ${local}\nstatus ${sent.stdout}, curl exit ${sent.exitCode}\n${sent.stderr}\n${body.slice(0, 2000)}`;
    expect(sent.exitCode, detail).toBe(0);
    const expected = /^(\d{3})\b/.exec(note)?.[1];
    if (expected) expect(sent.stdout, detail).toBe(expected);
    else expect(sent.stdout, detail).toMatch(/^2\d\d$/);
  }
}
