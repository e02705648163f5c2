/**
 * `kaygraph init` on a real terminal: the built CLI runs under a pseudo-terminal (util-linux `script`), the
 * test reads the screen and types keys. Covers the prompts, Ctrl-C at a prompt, and Ctrl-C while npm
 * installs (the SIGINT must reach npm and end the command with 130, files kept).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { execa } from "execa";
import { describe, expect, it, onTestFinished } from "vitest";
import { BIN } from "../helpers/cli.js";

const REPO = path.resolve(import.meta.dirname, "../..");
const KEY = { enter: "\r", down: "\x1b[B", ctrlC: "\x03" };

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kaygraph-init-tty-"));
  onTestFinished(() => (process.env.KAYGRAPH_KEEP_TMP === "1" ? undefined : rm(dir, { recursive: true, force: true })));
  return dir;
}

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** Runs `kaygraph <args>` on a 120×40 pseudo-terminal; stopped when the test ends. */
function onTerminal(args: string[], cwd: string, env: Record<string, string> = {}) {
  const command = `stty cols 120 rows 40; exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(" ")}`;
  const child = execa("script", ["-qec", command, "/dev/null"], {
    cwd,
    reject: false,
    env: { TERM: "xterm-256color", NO_COLOR: "1", CI: "", npm_config_user_agent: "npm/e2e", npm_config_audit: "false", npm_config_fund: "false", ...env },
    forceKillAfterDelay: 2_000,
  });
  let raw = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    raw += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = child.then((r) => r.exitCode);
  onTestFinished(async () => {
    child.kill("SIGKILL");
    await exited;
  });
  const screen = () => stripVTControlCharacters(raw);
  let from = 0;
  return {
    screen,
    exited,
    /** Resolves once the screen shows `text` after the last answer. */
    waitFor(text: string, timeoutMs = 15_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!screen().slice(from).includes(text)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`the terminal never showed ${JSON.stringify(text)}:\n${screen()}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async answer(prompt: string, keys: string): Promise<void> {
      await this.waitFor(prompt);
      from = screen().length;
      child.stdin?.write(keys);
    },
  };
}

describe("kaygraph init on a terminal", () => {
  it("asks, writes the chosen template and prints the next steps", async () => {
    const cwd = await tempDir();
    const term = onTerminal(["init", "--kaygraph-version", REPO], cwd);
    await term.answer("Where should the project be created?", `svc${KEY.enter}`);
    await term.answer("Which template?", `${KEY.down}${KEY.down}${KEY.enter}`);
    await term.answer("Install dependencies with npm?", "n");
    await term.answer("Create a git repository?", "n");
    expect(await term.exited).toBe(0);
    expect(existsSync(path.join(cwd, "svc/public/index.html"))).toBe(true);
    expect(term.screen()).toContain("tokens over SSE and WebSocket, client scripts, a live HTML page");
    expect(term.screen()).toMatch(/cd svc\s*│\s*│\s*npm install\s*│\s*│\s*npm run dev/);
  });

  it("Ctrl-C at a prompt ends with 130 and writes nothing", async () => {
    const cwd = await tempDir();
    const term = onTerminal(["init"], cwd);
    await term.answer("Where should the project be created?", KEY.ctrlC);
    expect(await term.exited).toBe(130);
    expect(term.screen()).toContain("Cancelled [KG_CANCELLED]");
    expect(term.screen()).toContain("Nothing was written.");
    expect(await readdir(cwd)).toEqual([]);
  });

  it("Ctrl-C during the install stops npm, keeps the files and ends with 130", async () => {
    // A registry that accepts connections and never answers: npm waits on it until interrupted.
    const sockets = new Set<net.Socket>();
    const registry = net.createServer((socket) => {
      sockets.add(socket);
      // Read (and drop) what npm sends, so its hang-up is seen: a paused socket never reports the end.
      socket.resume();
      socket.on("end", () => socket.destroy());
      socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
    onTestFinished(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => registry.close(() => resolve()));
    });
    const connected = new Promise<void>((resolve) => registry.once("connection", () => resolve()));
    const cwd = await tempDir();
    const term = onTerminal(["init", "app", "--template", "basic", "--kaygraph-version", REPO, "--no-git"], cwd, {
      npm_config_registry: `http://127.0.0.1:${(registry.address() as net.AddressInfo).port}/`,
      npm_config_prefer_offline: "false",
      npm_config_fetch_retries: "0",
    });
    await term.answer("Install dependencies with npm?", KEY.enter);
    await term.waitFor("Installing dependencies with npm");
    await Promise.race([
      connected,
      term.exited.then(() => Promise.reject(new Error(`init ended before npm reached the registry:\n${term.screen()}`))),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`npm never reached the registry:\n${term.screen()}`)), 30_000).unref()),
    ]);
    await term.answer("Installing dependencies with npm", KEY.ctrlC);
    expect(await term.exited).toBe(130);
    const screen = term.screen();
    expect(screen).toContain("Cancelled [KG_CANCELLED]");
    expect(screen).toContain("Dependencies were not installed. The project files are in app; run `npm install` there to finish.");
    expect(existsSync(path.join(cwd, "app/graphs/process.ts"))).toBe(true);
    // npm got the interrupt too: its connections to the registry are gone.
    await expect.poll(() => sockets.size, { timeout: 10_000 }).toBe(0);
  });
});
