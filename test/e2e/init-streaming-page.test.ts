/**
 * The streaming template's page (public/index.html) in headless Chromium, against the project's real
 * `kaygraph serve`: it must show the reply while it streams, over SSE and over the WebSocket.
 *
 * The template's config serves public/ with `server.static`, so the page and the API share one origin.
 */
import { execa, type ResultPromise } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import WebSocket from "ws";
import { runCli, startCli } from "../helpers/cli.js";

const REPO = path.resolve(import.meta.dirname, "../..");
const CHROMIUM = "/usr/bin/chromium";

/** Debian's chromium, installed when missing (the machine is Debian and the tests run as root). */
async function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = await execa("apt-get", ["update"], { env, reject: false, all: true });
  const install = await execa("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { env, reject: false, all: true });
  if (install.exitCode !== 0 || !existsSync(CHROMIUM)) {
    throw new Error(`These tests need Debian's chromium; \`apt-get install -y chromium\` failed:\n${String(update.all).slice(-2000)}\n${String(install.all).slice(-4000)}`);
  }
}

/** A DevTools Protocol session on one page of a headless Chromium. */
interface Page {
  send(method: string, params?: Record<string, unknown>): Promise<any>;
  nextEvent(method: string): Promise<any>;
}

/** Starts headless Chromium with a throwaway profile; it and its helpers are killed when the test ends. */
async function openBrowser(): Promise<{ newPage(url: string): Promise<Page> }> {
  const profile = await mkdtemp(path.join(os.tmpdir(), "kaygraph-chromium-"));
  const args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", `--user-data-dir=${profile}`, "--remote-debugging-port=0", "about:blank"];
  // Its own process group, so the helpers it forks go with it.
  const browser: ResultPromise = execa(CHROMIUM, args, { reject: false, detached: true, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  onTestFinished(async () => {
    try {
      process.kill(-browser.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
    await browser;
    await rm(profile, { recursive: true, force: true });
  });
  let stderr = "";
  const endpoint = await new Promise<string>((resolve, reject) => {
    browser.stderr!.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /DevTools listening on (ws:\/\/\S+)/.exec(stderr);
      if (found) resolve(found[1]!);
    });
    void browser.then(() => reject(new Error(`chromium exited before it listened:\n${stderr}`)));
  });
  const socket = new WebSocket(endpoint, { perMessageDeflate: false });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  onTestFinished(() => socket.terminate());
  let nextId = 0;
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(message: any) => void>();
  socket.on("message", (raw) => {
    const message = JSON.parse(String(raw));
    const waiter = pending.get(message.id);
    if (waiter) {
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(`${message.error.message}`));
      else waiter.resolve(message.result);
    }
    for (const listener of listeners) listener(message);
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string) =>
    new Promise<any>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }));
    });
  return {
    async newPage(url) {
      const { targetId } = await send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
      const page: Page = {
        send: (method, params) => send(method, params, sessionId),
        nextEvent: (method) =>
          new Promise((resolve) => {
            const listener = (message: any) => {
              if (message.sessionId !== sessionId || message.method !== method) return;
              listeners.delete(listener);
              resolve(message.params);
            };
            listeners.add(listener);
          }),
      };
      await page.send("Page.enable");
      const loaded = page.nextEvent("Page.loadEventFired");
      await page.send("Page.navigate", { url });
      await loaded;
      return page;
    },
  };
}

/** In the page: send a prompt over `transport`, wait for the end, and report what the reply looked like. */
const SEND_AND_WATCH = (transport: "sse" | "ws", prompt: string) => `(async () => {
  const reply = document.querySelector("#reply");
  const status = document.querySelector("#status");
  let updates = 0;
  new MutationObserver(() => { updates += 1; }).observe(reply, { childList: true, characterData: true, subtree: true });
  const finished = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (status.dataset.state !== "streaming") { observer.disconnect(); resolve(); }
    });
    observer.observe(status, { attributes: true });
  });
  document.querySelector("input[name=transport][value=${transport}]").checked = true;
  document.querySelector("#prompt").value = ${JSON.stringify(prompt)};
  document.querySelector("#send").click();
  await finished;
  return { state: status.dataset.state, status: status.textContent, text: reply.textContent, updates };
})()`;

let root: string;
let project: string;

beforeAll(async () => {
  await ensureChromium();
  root = await mkdtemp(path.join(os.tmpdir(), "kaygraph-init-page-"));
  const env = { npm_config_prefer_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_user_agent: "npm/e2e" };
  const init = await runCli(["init", "app", "--template", "streaming", "--kaygraph-version", REPO, "--no-git"], { cwd: root, env, timeout: 120_000 });
  expect(init.exitCode, `${init.stdout}\n${init.stderr}`).toBe(0);
  project = path.join(root, "app");
}, 240_000);

afterAll(async () => {
  if (process.env.KAYGRAPH_KEEP_TMP !== "1") await rm(root, { recursive: true, force: true });
});

describe("the streaming template's page in headless Chromium", () => {
  it.each(["sse", "ws"] as const)("shows the reply as it streams over %s", async (transport) => {
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd: project });
    const site = `http://127.0.0.1:${await server.ready()}`;
    const page0 = await fetch(`${site}/`);
    expect(page0.headers.get("content-security-policy")).toContain("script-src 'self'");
    const browser = await openBrowser();
    const page = await browser.newPage(`${site}/`);
    const { result, exceptionDetails } = await page.send("Runtime.evaluate", { expression: SEND_AND_WATCH(transport, "Hi from Chromium"), awaitPromise: true, returnByValue: true });
    expect(exceptionDetails).toBeUndefined();
    const seen = result.value as { state: string; status: string; text: string; updates: number };
    expect(seen.state, seen.status).toBe("done");
    expect(seen.text).toMatch(/^You said: "Hi from Chromium"\. A kaygraph node streams each token/);
    expect(seen.status).toMatch(/^Done: \d+ tokens \(stop\)\.$/);
    // Token by token: the reply changed many times before the run ended, not once at the end.
    expect(seen.updates).toBeGreaterThan(10);
  });
});
