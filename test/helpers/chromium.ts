/**
 * Headless Chromium for e2e tests of pages: Debian's chromium driven over the DevTools Protocol (no browser
 * download). The same approach as test/e2e/init-streaming-page.test.ts.
 */
import { execa, type ResultPromise } from "execa";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { onTestFinished } from "vitest";
import WebSocket from "ws";

const CHROMIUM = "/usr/bin/chromium";

/** Debian's chromium, installed when missing (the machine is Debian and the tests run as root). */
export async function ensureChromium(): Promise<void> {
  if (existsSync(CHROMIUM)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const update = await execa("apt-get", ["update"], { env, reject: false, all: true });
  const install = await execa("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], { env, reject: false, all: true });
  if (install.exitCode !== 0 || !existsSync(CHROMIUM)) {
    throw new Error(`These tests need Debian's chromium; \`apt-get install -y chromium\` failed:\n${String(update.all).slice(-2000)}\n${String(install.all).slice(-4000)}`);
  }
}

/** A DevTools Protocol session on one page of a headless Chromium. */
export interface Page {
  send(method: string, params?: Record<string, unknown>): Promise<any>;
  nextEvent(method: string): Promise<any>;
}

/** Starts headless Chromium with a throwaway profile; it and its helpers are killed when the test ends. */
export async function openBrowser(): Promise<{ newPage(url: string): Promise<Page> }> {
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

/** Evaluates `expression` in the page until it returns a truthy value (or fails after `timeoutMs`, showing the last value). */
export async function waitInPage(page: Page, expression: string, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const { result, exceptionDetails } = await page.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (exceptionDetails) throw new Error(`page threw: ${JSON.stringify(exceptionDetails).slice(0, 2000)}`);
    last = result.value;
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting in the page for ${expression}; last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
