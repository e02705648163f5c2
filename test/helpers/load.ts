/** Steady load for e2e tests: `concurrency` loops of requests until stopped; counts outcomes. */
export interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  /** Values of `pid` seen in JSON responses (health answers carry the worker pid). */
  pids: Set<number>;
}

export interface LoadOptions {
  concurrency?: number;
  /** Build each request (default: GET). */
  init?: () => RequestInit;
  /** Send `Connection: close` (a new connection per request). */
  newConnections?: boolean;
  /** Per-request timeout (default 5 s). */
  timeoutMs?: number;
  /**
   * Pause (ms) after the `n`th request of loop `loop`, before the next one (default none): lets a keep-alive
   * client's sockets sit idle for varied times, as a person's browser or a polling script does.
   */
  pauseMs?: (loop: number, n: number) => number;
}

/** Starts a steady load against `url`; `stop()` ends it and returns what happened. */
export function steadyLoad(url: string, options: LoadOptions = {}) {
  const result: LoadResult = { ok: 0, failed: 0, errors: [], pids: new Set() };
  let running = true;
  const loop = async (_: unknown, index: number) => {
    for (let n = 0; running; n++) {
      const pause = options.pauseMs?.(index, n) ?? 0;
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
      try {
        const init = options.init?.() ?? {};
        const headers = new Headers(init.headers);
        if (options.newConnections) headers.set("connection", "close");
        // A connection handed to a worker that dies at that moment is never answered: time out, count it.
        const res = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(options.timeoutMs ?? 5_000) });
        const text = await res.text();
        if (res.ok) {
          result.ok++;
          const pid = /"pid":(\d+)/.exec(text);
          if (pid) result.pids.add(Number(pid[1]));
        } else {
          result.failed++;
          result.errors.push(`${res.status} ${text.slice(0, 200)}`);
        }
      } catch (error) {
        result.failed++;
        result.errors.push(String((error as Error & { cause?: unknown }).cause ?? error));
      }
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 4 }, loop);
  return {
    result,
    /** Resolves once at least `n` more requests succeeded. */
    async waitForOk(n: number, timeoutMs = 20_000): Promise<void> {
      const target = result.ok + n;
      const deadline = Date.now() + timeoutMs;
      while (result.ok < target) {
        if (Date.now() > deadline) throw new Error(`load: only ${result.ok} ok (wanted ${target}); errors: ${result.errors.slice(0, 5).join(" | ")}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop(): Promise<LoadResult> {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: no such process.
    return false;
  }
}

/** Polls `check` until it returns true or the deadline passes. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
