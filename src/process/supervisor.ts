import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { Errors, KaygraphError } from "../errors.js";
import { CrashTracker, DEFAULT_RESTART_POLICY, type RestartPolicy } from "./backoff.js";
import { MetricsCollector } from "./metrics-collector.js";
import { WORKER_ENV, isWorkerMessage, type PrimaryMessage, type WorkerMessage, type WorkerOptions } from "./messages.js";

/** Options of a {@link Supervisor}. */
export interface SupervisorOptions {
  /** Worker processes to keep running. */
  workers: number;
  /** How workers load the project (each loads settings and graphs itself, so a reload reads fresh files). */
  worker: Pick<WorkerOptions, "load" | "debug" | "exposeErrors" | "drainIdleMs">;
  /** The concrete port every worker listens on (see ports.ts). */
  port: number;
  /** Drain deadline for each retiring worker on shutdown and reload. */
  shutdownTimeoutMs: number;
  restart?: RestartPolicy;
  /** Keep a warm standby worker (dev): reloads then skip process start-up and framework loading. */
  standby?: boolean;
  /** Take the worker count and drain deadline from what the workers load (serve: SIGHUP re-reads them). */
  followSettings?: boolean;
  logger: Logger;
  /** Human lines (stderr): startup, reloads, crashes. */
  say: (line: string) => void;
}

/** A load that failed: the formatted error of the worker that tried. */
export class WorkerLoadError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "WorkerLoadError";
  }
}

interface Managed {
  worker: Worker;
  index: number;
  startedAt: number;
  phase: "standby" | "starting" | "ready" | "retiring";
  /** A standby resolves this once it listens for the load order. */
  onStandby?: () => void;
  standbyReady?: Promise<void>;
  /** Resolves when the worker has stopped taking new connections (or is gone). */
  drainStarted?: Promise<void>;
  onDraining?: () => void;
}

/** Result of a reload. */
export type ReloadResult = { ok: true; ms: number } | { ok: false; ms: number; error: WorkerLoadError };

/**
 * The cluster primary shared by `serve` and `dev`: forks workers that share one listening port, replaces
 * crashed ones with exponential backoff (giving up on a crash loop), reloads one worker at a time (the new
 * one is ready before the old one drains) and shuts down gracefully. Holds no application state: rate
 * limits, tasks and events live in the shared store.
 */
export class Supervisor {
  private readonly managed = new Set<Managed>();
  private readonly crashes: CrashTracker;
  private readonly collector = new MetricsCollector();
  private readonly port: number;
  private nextIndex = 1;
  private stopping = false;
  private fatal: ((error: KaygraphError) => void) | undefined;
  private standby: { managed: Managed; ready: Promise<{ managed: Managed; port: number }> } | undefined;
  /** The user's modules the serving code imported; after a failed load, the failed attempt's too. */
  private modules = new Set<string>();
  private lastLoadFailed = false;
  private workerCount: number;
  private shutdownTimeoutMs: number;
  /** Resolves when the supervisor gave up (crash loop); `run()` turns it into the exit code. */
  readonly gaveUp: Promise<KaygraphError>;

  constructor(private readonly options: SupervisorOptions) {
    this.crashes = new CrashTracker(options.restart ?? DEFAULT_RESTART_POLICY);
    this.port = options.port;
    this.workerCount = options.workers;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs;
    this.gaveUp = new Promise((resolve) => (this.fatal = resolve));
    cluster.setupPrimary({ exec: fileURLToPath(new URL("./worker-entry.js", import.meta.url)) });
  }

  /** The shared port. */
  get listeningPort(): number {
    return this.port;
  }

  /**
   * Whether a change to `file` (absolute) can change what the workers run: a module the serving code
   * imported, or one the last, failed, attempt imported (fixing it should recover).
   */
  usesModule(file: string): boolean {
    return this.modules.has(file);
  }

  /** The user's modules the serving code imported (absolute paths). */
  get moduleFiles(): string[] {
    return [...this.modules];
  }

  /** True when no worker has loaded the current code yet, or the last load failed. */
  get lastLoadFailedOrNone(): boolean {
    return this.lastLoadFailed || this.modules.size === 0;
  }

  /** Pids of live workers. */
  get pids(): number[] {
    return [...this.managed].filter((m) => m.phase === "ready" || m.phase === "starting").map((m) => m.worker.process.pid ?? -1);
  }

  /** Forks the workers and resolves with the port once all are ready; a worker that cannot load rejects. */
  async start(): Promise<number> {
    const first = await this.fork(true);
    const others = await Promise.allSettled(Array.from({ length: this.workerCount - 1 }, () => this.fork(false)));
    const failed = others.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await this.shutdown();
      throw failed.reason;
    }
    this.prepareStandby();
    return first.port;
  }

  /**
   * Replaces every worker with one on fresh code, one at a time. On a load failure the old workers keep
   * serving. With `followSettings`, the first new worker's settings decide how many workers there are
   * afterwards and their drain deadline. The caller runs one reload at a time (see run-cluster.ts, which
   * folds the changes that arrive during a reload into exactly one more).
   */
  reload(): Promise<ReloadResult> {
    return this.rollingRestart();
  }

  /** Tells every worker to drain, waits for them (up to the deadline plus a margin), then kills stragglers. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    const all = [...this.managed];
    const exits = all.map((m) => new Promise<void>((resolve) => (m.worker.isDead() ? resolve() : m.worker.once("exit", () => resolve()))));
    for (const m of all) void this.retire(m);
    const deadline = setTimeout(() => {
      for (const m of all) if (!m.worker.isDead()) m.worker.process.kill("SIGKILL");
    }, this.shutdownTimeoutMs + 5_000);
    await Promise.all(exits);
    clearTimeout(deadline);
  }

  /** Kills every worker at once (a second Ctrl-C). */
  killAll(): void {
    this.stopping = true;
    for (const m of this.managed) if (!m.worker.isDead()) m.worker.process.kill("SIGKILL");
  }

  private async rollingRestart(): Promise<ReloadResult> {
    const started = performance.now();
    const old = [...this.managed].filter((m) => m.phase === "ready");
    // One new worker per old one (each ready before its old one drains); a changed worker count adds or
    // retires the difference at the end.
    for (let i = 0; i < Math.max(old.length, this.workerCount); i++) {
      if (this.stopping) break;
      if (i < this.workerCount) {
        try {
          await this.fork(i === 0);
        } catch (error) {
          const failure = error instanceof WorkerLoadError ? error : new WorkerLoadError(String(error), 1);
          return { ok: false, ms: performance.now() - started, error: failure };
        }
      }
      const retiring = old[i];
      // Done only once the old worker stopped taking connections: after "reloaded", new code answers.
      if (retiring) await this.retire(retiring);
    }
    this.prepareStandby();
    return { ok: true, ms: performance.now() - started };
  }

  private retire(m: Managed): Promise<void> {
    if (m.drainStarted) return m.drainStarted;
    if (m.worker.isDead()) return Promise.resolve();
    const wasStandby = m.phase === "standby";
    m.phase = "retiring";
    if (wasStandby) {
      m.worker.process.kill("SIGTERM");
      return Promise.resolve();
    }
    m.drainStarted = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      m.onDraining = done;
      m.worker.once("exit", done);
    });
    const message: PrimaryMessage = { type: "kaygraph:drain", deadlineMs: this.shutdownTimeoutMs };
    if (m.worker.isConnected()) m.worker.send(message);
    else m.worker.process.kill("SIGTERM");
    return m.drainStarted;
  }

  /** Starts a worker on the project (the warm standby when there is one) and resolves when it is ready. */
  private async fork(generate: boolean): Promise<{ managed: Managed; port: number }> {
    const index = this.nextIndex++;
    const standby = this.standby;
    if (standby && standby.managed.phase === "standby" && standby.managed.worker.isConnected()) {
      this.standby = undefined;
      // A standby still starting up is close to ready: waiting for it beats starting a new process.
      await standby.managed.standbyReady;
      standby.managed.phase = "starting";
      standby.managed.index = index;
      standby.managed.startedAt = Date.now();
      const message: PrimaryMessage = { type: "kaygraph:load", index, generate };
      if (standby.managed.worker.isConnected()) {
        standby.managed.worker.send(message);
        return standby.ready;
      }
    }
    return this.spawn({ ...this.options.worker, index, generate, port: this.port }).ready;
  }

  /** Forks a standby for the next reload (dev), unless one is waiting already. */
  private prepareStandby(): void {
    if (!this.options.standby || this.stopping || this.standby) return;
    const spawned = this.spawn({ ...this.options.worker, index: 0, generate: false, port: this.port, standby: true });
    // A standby that dies before it is used is simply not there next time; nothing awaits it yet.
    spawned.ready.catch(() => {
      if (this.standby === spawned) this.standby = undefined;
    });
    this.standby = spawned;
  }

  private spawn(options: WorkerOptions): { managed: Managed; ready: Promise<{ managed: Managed; port: number }> } {
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify(options) });
    const managed: Managed = { worker, index: options.index, startedAt: Date.now(), phase: options.standby ? "standby" : "starting" };
    if (options.standby) {
      managed.standbyReady = new Promise<void>((resolve) => {
        managed.onStandby = resolve;
        worker.once("exit", () => resolve());
      });
    }
    this.managed.add(managed);
    const ready = new Promise<{ managed: Managed; port: number }>((resolve, reject) => {
      let loadError: WorkerLoadError | undefined;
      worker.on("message", (message: unknown) => {
        if (!isWorkerMessage(message)) return;
        this.onMessage(managed, message, { resolve, setLoadError: (e) => (loadError = e) });
      });
      worker.once("exit", (code, signal) => {
        this.managed.delete(managed);
        if (managed.phase === "starting" || managed.phase === "standby") {
          reject(loadError ?? new WorkerLoadError(`Worker ${managed.index} exited (${signal ?? `code ${code}`}) before it was ready.`, 1));
          return;
        }
        if (managed.phase === "ready") this.onCrash(managed, code, signal);
      });
    });
    return { managed, ready };
  }

  private onMessage(managed: Managed, message: WorkerMessage, hooks: { resolve: (v: { managed: Managed; port: number }) => void; setLoadError: (e: WorkerLoadError) => void }): void {
    switch (message.type) {
      case "kaygraph:ready":
        if (this.options.followSettings) {
          this.workerCount = message.settings.workers;
          this.shutdownTimeoutMs = message.settings.shutdownTimeoutMs;
        }
        this.modules = new Set(message.modules);
        this.lastLoadFailed = false;
        managed.phase = "ready";
        hooks.resolve({ managed, port: message.port });
        return;
      case "kaygraph:load-failed":
        for (const file of message.modules) this.modules.add(file);
        this.lastLoadFailed = true;
        hooks.setLoadError(new WorkerLoadError(message.message, message.exitCode));
        return;
      case "kaygraph:standby":
        managed.onStandby?.();
        return;
      case "kaygraph:draining":
        managed.onDraining?.();
        return;
      case "kaygraph:fatal":
        this.options.logger.error({ worker: managed.index, worker_pid: managed.worker.process.pid }, message.message);
        return;
      case "kaygraph:metrics-request": {
        const serving = [...this.managed].filter((m) => m.phase === "ready" || m.phase === "retiring").map((m) => m.worker);
        void this.collector.collect(serving).then(
          (text) => this.reply(managed, { type: "kaygraph:metrics-response", id: message.id, text }),
          (error: Error) => this.reply(managed, { type: "kaygraph:metrics-response", id: message.id, error: error.message }),
        );
        return;
      }
      case "kaygraph:metrics-json":
        this.collector.receive(message.id, message.metrics);
    }
  }

  private reply(managed: Managed, message: PrimaryMessage): void {
    if (managed.worker.isConnected()) managed.worker.send(message);
  }

  private onCrash(managed: Managed, code: number | null, signal: string | null): void {
    if (this.stopping) return;
    const pid = managed.worker.process.pid;
    const delay = this.crashes.recordDeath(Date.now() - managed.startedAt);
    const how = signal ?? `exit code ${code}`;
    if (delay === undefined) {
      const error = new KaygraphError(Errors.ServerCrashLoop, { message: `Workers died ${this.crashes.recentDeaths} times within a minute (last: worker ${managed.index}, pid ${pid}, ${how}); giving up.` });
      this.options.logger.fatal({ worker: managed.index, worker_pid: pid, code, signal }, error.message);
      this.fatal?.(error);
      return;
    }
    this.options.logger.warn({ worker: managed.index, worker_pid: pid, code, signal, restart_in_ms: delay }, "worker died; replacing it");
    this.options.say(`kaygraph: worker ${managed.index} (pid ${pid}) died (${how}); replacing it in ${delay} ms`);
    setTimeout(() => {
      if (this.stopping) return;
      this.fork(false).catch((error: unknown) => {
        // A replacement that cannot even load counts as another death (a crash loop ends it).
        this.options.say(`kaygraph: replacement worker failed to start: ${(error as Error).message}`);
        this.onCrash({ ...managed, startedAt: Date.now() }, 1, null);
      });
    }, delay);
  }
}
