import { traceReload } from "../reload-trace.js";
import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { Errors, KaygraphError } from "../errors.js";
import { CrashTracker, DEFAULT_RESTART_POLICY, type RestartPolicy } from "./backoff.js";
import { Liveness, describeRun } from "./liveness.js";
import { RunRecords, readRunRecord } from "./run-record.js";
import { MetricsCollector } from "./metrics-collector.js";
import type { ThreadShape } from "../runs/start.js";
import { WORKER_ENV, isWorkerMessage, type PrimaryMessage, type WorkerMessage, type WorkerOptions, type WorkerSettings } from "./messages.js";
import { recycleReason, requestBudget, type RecycleReason } from "./recycle.js";
import { createPrimaryMetrics, type PrimaryMetrics, type RestartReason } from "./restart-metrics.js";

/** Watchdog and recycling limits of serving workers; 0 turns one off. */
export type WorkerLimits = Pick<WorkerSettings, "workerTimeoutMs" | "maxRequests" | "maxRequestsJitter" | "maxMemoryMb">;

/** Options of a {@link Supervisor}. */
export interface SupervisorOptions {
  /** Worker processes to keep running. */
  workers: number;
  /** How workers load the project (each loads settings and graphs itself, so a reload reads fresh files). */
  worker: Pick<WorkerOptions, "load" | "debug" | "exposeErrors" | "drainIdleMs" | "keepAliveTimeoutMs">;
  /** The concrete port every worker listens on (see ports.ts). */
  port: number;
  /** Drain deadline for each retiring worker on shutdown and reload. */
  shutdownTimeoutMs: number;
  /** Watchdog and recycling (default: all off). */
  limits?: WorkerLimits;
  restart?: RestartPolicy;
  /**
   * Warm standby workers to keep (dev; default none): a reload then skips process start-up and framework
   * loading. With two, saves that come faster than one standby warms up still find one ready.
   */
  standbys?: number;
  /**
   * A worker replaced by a reload or recycling passes requests that still reach it on to its replacement
   * instead of closing its idle keep-alive sockets early (dev: see server/handover.ts).
   */
  handover?: boolean;
  /** Take the worker count, drain deadline and limits from what the workers load (serve: SIGHUP re-reads them). */
  followSettings?: boolean;
  /**
   * Workers forked once a first worker was ready join the stores it opened (serve): they never create the
   * SQLite file, so a deleted database is never replaced by an empty one beside the old, and they start
   * degraded rather than fail (and end the service) when a store cannot be opened.
   */
  joinStores?: boolean;
  /** Each load attempt's outcome and the user modules it imported (dev watches them). */
  onLoad?: (outcome: { ok: boolean; modules: string[]; settingsModules?: string[] }) => void;
  logger: Logger;
  /** Human lines (stderr): startup, reloads, crashes. */
  say: (line: string) => void;
}

/** A load that failed: the formatted error of the worker that tried (`reported`), or how it died. */
export class WorkerLoadError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** False when the worker died before it could say why (it exited or was killed while booting). */
    readonly reported = true,
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
  liveness: Liveness;
  /** Where the worker records the inline run it started last (see run-record.ts); none without a writable temp dir. */
  runFile: string | undefined;
  /** Requests this worker may serve before it is recycled (0 = no limit). */
  budget: number;
  /** Set once recycling asked for its replacement. */
  recycling?: RecycleReason;
  /** No recycling before this time (epoch ms): a replacement failed to start. */
  recycleAfter?: number;
  /** Set once the watchdog killed it. */
  silenced?: boolean;
  /** A standby resolves this once it listens for the load order. */
  onStandby?: () => void;
  standbyReady?: Promise<void>;
  /** A standby that finished warming up. */
  warm?: boolean;
  /** Resolves when the worker has stopped taking new connections (or is gone). */
  drainStarted?: Promise<void>;
  onDraining?: () => void;
  /** In-place reloads this worker went through (see Supervisor.swap). */
  generation?: number;
  /** Waits for the answer to an in-place reload. */
  onSwap?: (answer: SwapAnswer | undefined) => void;
  /** Set while it reloads in place (see Supervisor.swap): its death then is that reload's failure, not a crash. */
  swapping?: boolean;
}

type SwapAnswer = Extract<WorkerMessage, { type: "kaygraph:swapped" | "kaygraph:swap-failed" | "kaygraph:swap-refused" }>;

/**
 * In-place reloads a worker takes before the next reload starts a new process: each keeps the modules of
 * the code it replaced in memory (and whatever they started: timers, connections) until then.
 */
const MAX_GENERATIONS = 25;

/**
 * A worker reloading in place that is silent this long (its event loop blocked: a graph module whose top-level
 * code never returns) is killed, and a new process started instead.
 */
const SWAP_SILENCE_MS = 5_000;
/** A worker that has not answered an in-place reload after this long (its event loop turning) is killed too. */
const SWAP_TIMEOUT_MS = 30_000;

/** Result of a reload. */
export type ReloadResult = { ok: true; ms: number } | { ok: false; ms: number; error: WorkerLoadError };

/** How often the watchdog looks at the workers' heartbeats (ms). */
const WATCHDOG_CHECK_MS = 250;

const NO_LIMITS: WorkerLimits = { workerTimeoutMs: 0, maxRequests: 0, maxRequestsJitter: 0, maxMemoryMb: 0 };

/**
 * The cluster primary shared by `serve` and `dev`: forks workers that share one listening port; replaces a
 * worker that crashes after it was ready with exponential backoff, forever; kills and replaces a worker whose
 * event loop went silent (watchdog); recycles a worker past its request or memory budget; reloads one worker
 * at a time (the new one is ready before the old one drains) and shuts down gracefully. Gives up only when
 * replacements cannot boot while no worker serves. Holds no application state: rate limits, tasks and
 * events live in the shared store.
 */
export class Supervisor {
  private readonly managed = new Set<Managed>();
  private readonly runRecords = new RunRecords();
  private readonly crashes: CrashTracker;
  private readonly metrics: PrimaryMetrics = createPrimaryMetrics();
  private readonly collector = new MetricsCollector(this.metrics.registry);
  private readonly port: number;
  private nextIndex = 1;
  private stopping = false;
  private fatal: ((error: KaygraphError) => void) | undefined;
  /** Standbys waiting for a reload, oldest first (see SupervisorOptions.standbys). */
  private standbys: { managed: Managed; ready: Promise<{ managed: Managed; port: number }> }[] = [];
  /** A rolling restart is under way: no standby starts meanwhile (it would slow the restart down). */
  private restarting = false;
  private workerCount: number;
  private shutdownTimeoutMs: number;
  /** A worker was ready: the service's stores exist (see SupervisorOptions.joinStores). */
  private storesOpened = false;
  private limits: WorkerLimits;
  /** The run threads of the last worker that became ready: what the next standby prestarts. */
  private threads: ThreadShape | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastCheck = 0;
  /** Rolling restarts (reloads, recycling) run one at a time. */
  private operations: Promise<unknown> = Promise.resolve();
  /** Resolves when the supervisor gave up (replacements cannot boot); the command turns it into the exit code. */
  readonly gaveUp: Promise<KaygraphError>;

  constructor(private readonly options: SupervisorOptions) {
    this.crashes = new CrashTracker(options.restart ?? DEFAULT_RESTART_POLICY);
    this.port = options.port;
    this.workerCount = options.workers;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs;
    this.limits = options.limits ?? NO_LIMITS;
    this.gaveUp = new Promise((resolve) => (this.fatal = resolve));
    cluster.setupPrimary({ exec: fileURLToPath(new URL("./worker-entry.js", import.meta.url)) });
  }

  /** The shared port. */
  get listeningPort(): number {
    return this.port;
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
    this.startWatchdog();
    return first.port;
  }

  /**
   * Replaces every worker with one on fresh code, one at a time. On a load failure the old workers keep
   * serving. With `followSettings`, the first new worker's settings decide how many workers there are
   * afterwards, their drain deadline and limits. Runs after any rolling restart in progress (reloads and
   * recycling never overlap); the caller folds changes that arrive meanwhile into one more reload.
   */
  reload(): Promise<ReloadResult> {
    return this.serially(() => this.rollingRestart());
  }

  /**
   * An in-place reload of the one serving worker (dev, a change of graph code only): it loads the graphs
   * again under a new generation and serves them itself — no new process, no handover. Undefined when this
   * needs a {@link reload} instead: not exactly one worker serves, the worker took its share of in-place
   * reloads (see MAX_GENERATIONS), it refused (the change needs run threads or webhook delivery it did not
   * start), or it died meanwhile. Runs after any rolling restart in progress, as reloads do.
   */
  swap(): Promise<ReloadResult | undefined> {
    return this.serially(() => this.swapInPlace());
  }

  private async swapInPlace(): Promise<ReloadResult | undefined> {
    const serving = [...this.managed].filter((m) => m.phase === "ready");
    const managed = serving[0];
    if (this.stopping || serving.length !== 1 || managed === undefined || (managed.generation ?? 0) >= MAX_GENERATIONS || !managed.worker.isConnected()) return undefined;
    const started = performance.now();
    traceReload("swap");
    const generation = (managed.generation ?? 0) + 1;
    managed.generation = generation;
    // A worker that dies or is killed while it loads is not replaced as a crash: the next save starts one on
    // the code as it is then (a replacement now would load the code that just killed it).
    managed.swapping = true;
    let lost: string | undefined;
    const pid = managed.worker.process.pid;
    const answer = await new Promise<SwapAnswer | undefined>((resolve) => {
      const done = (message: SwapAnswer | undefined) => {
        clearInterval(watch);
        managed.worker.off("exit", gone);
        resolve(message);
      };
      const gone = (code: number | null, signal: string | null) => {
        lost ??= `Worker ${managed.index} (pid ${pid}) exited (${signal ?? `exit code ${code}`}) while it loaded the changed graphs.`;
        done(undefined);
      };
      const kill = (why: string) => {
        lost = `Worker ${managed.index} (pid ${pid}) ${why}; it was killed (SIGKILL).`;
        managed.worker.process.kill("SIGKILL");
      };
      // Heartbeats come every second from a worker whose event loop turns, loading or not. Not under a debugger:
      // a breakpoint in a graph module's top-level code must not get the worker killed.
      const watch = setInterval(() => {
        if (this.debugging) return;
        const silent = managed.liveness.silentFor();
        if (silent >= SWAP_SILENCE_MS) kill(`stopped answering for ${Math.round(silent / 1000)}s while it loaded the changed graphs (a module whose top-level code never returns?)`);
        else if (performance.now() - started >= SWAP_TIMEOUT_MS) kill(`had not loaded the changed graphs after ${SWAP_TIMEOUT_MS / 1000}s (a module whose top-level await never settles?)`);
      }, 250);
      managed.worker.once("exit", gone);
      managed.onSwap = done;
      managed.worker.send({ type: "kaygraph:swap", generation } satisfies PrimaryMessage);
    });
    managed.onSwap = undefined;
    managed.swapping = false;
    traceReload("swap answered");
    const ms = performance.now() - started;
    if (lost !== undefined) {
      managed.phase = "retiring";
      return { ok: false, ms, error: new WorkerLoadError(lost, 1) };
    }
    if (answer === undefined || answer.type === "kaygraph:swap-refused") return undefined;
    if (answer.type === "kaygraph:swap-failed") {
      this.options.onLoad?.({ ok: false, modules: answer.modules });
      return { ok: false, ms, error: new WorkerLoadError(answer.message, 2) };
    }
    this.options.onLoad?.({ ok: true, modules: answer.modules });
    return { ok: true, ms };
  }

  /** The primary runs under an inspector (`node --inspect`): workers do too, and may sit at a breakpoint. */
  private readonly debugging = process.execArgv.some((arg) => arg.startsWith("--inspect")) || /--inspect/.test(process.env.NODE_OPTIONS ?? "");

  /** True once {@link shutdown} (or {@link killAll}) began. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** True while a worker serves (dev: false after one wedged loading a save, until the next save starts one). */
  get serving(): boolean {
    return [...this.managed].some((m) => m.phase === "ready");
  }

  /** Tells every worker to drain, waits for them (up to the deadline plus a margin), then kills stragglers. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchdog);
    const all = [...this.managed];
    const exits = all.map((m) => new Promise<void>((resolve) => (m.worker.isDead() ? resolve() : m.worker.once("exit", () => resolve()))));
    for (const m of all) void this.retire(m);
    const deadline = setTimeout(() => {
      for (const m of all) if (!m.worker.isDead()) m.worker.process.kill("SIGKILL");
    }, this.shutdownTimeoutMs + 5_000);
    await Promise.all(exits);
    clearTimeout(deadline);
    this.runRecords.remove();
  }

  /** Kills every worker at once (a second Ctrl-C). */
  killAll(): void {
    this.stopping = true;
    clearInterval(this.watchdog);
    for (const m of this.managed) if (!m.worker.isDead()) m.worker.process.kill("SIGKILL");
    this.runRecords.remove();
  }

  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.operations.then(operation);
    this.operations = next.catch(() => undefined);
    return next;
  }

  private async rollingRestart(): Promise<ReloadResult> {
    this.restarting = true;
    try {
      return await this.replaceAll();
    } finally {
      this.restarting = false;
      this.prepareStandby();
    }
  }

  private async replaceAll(): Promise<ReloadResult> {
    const started = performance.now();
    traceReload("rolling restart");
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
      if (retiring) await this.retire(retiring, i < this.workerCount);
    }
    traceReload("restart done");
    return { ok: true, ms: performance.now() - started };
  }

  /** Drains a worker; `replaced`: a new worker serves in its place already (a handover, where enabled). */
  private retire(m: Managed, replaced = false): Promise<void> {
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
    const message: PrimaryMessage = { type: "kaygraph:drain", deadlineMs: this.shutdownTimeoutMs, ...(replaced && this.options.handover && { handover: true }) };
    if (m.worker.isConnected()) m.worker.send(message);
    else m.worker.process.kill("SIGTERM");
    return m.drainStarted;
  }

  /** Starts a worker on the project (the warm standby when there is one) and resolves when it is ready. */
  private async fork(generate: boolean): Promise<{ managed: Managed; port: number }> {
    const index = this.nextIndex++;
    this.standbys = this.standbys.filter((s) => s.managed.phase === "standby" && s.managed.worker.isConnected());
    // The oldest warm one; else the oldest, which is closest to warm.
    const standby = this.standbys.find((s) => s.managed.warm) ?? this.standbys[0];
    if (standby) {
      this.standbys = this.standbys.filter((s) => s !== standby);
      // A standby still starting up is close to ready: waiting for it beats starting a new process.
      await standby.managed.standbyReady;
      traceReload("standby listening; load sent");
      standby.managed.phase = "starting";
      standby.managed.index = index;
      standby.managed.startedAt = Date.now();
      const message: PrimaryMessage = { type: "kaygraph:load", index, generate };
      if (standby.managed.worker.isConnected()) {
        standby.managed.worker.send(message);
        return standby.ready;
      }
    }
    return this.spawn({ ...this.options.worker, index, generate, port: this.port, joinStores: this.storesOpened }).ready;
  }

  /**
   * Forks a standby for the next reloads (dev) while there are fewer than `standbys`, one at a time: the next
   * starts once this one is warm (and no restart is under way), so standbys never compete for the CPU.
   */
  private prepareStandby(): void {
    const wanted = this.options.standbys ?? 0;
    this.standbys = this.standbys.filter((s) => s.managed.phase === "standby" && !s.managed.worker.isDead());
    if (this.stopping || this.restarting || this.standbys.length >= wanted || this.standbys.some((s) => !s.managed.warm)) return;
    traceReload("fork standby");
    const spawned = this.spawn({ ...this.options.worker, index: 0, generate: false, port: this.port, standby: true, threads: this.threads });
    // A standby that dies before it is used is simply not there next time; nothing awaits it yet.
    spawned.ready.catch(() => {
      this.standbys = this.standbys.filter((s) => s !== spawned);
    });
    this.standbys.push(spawned);
  }

  private spawn(options: WorkerOptions): { managed: Managed; ready: Promise<{ managed: Managed; port: number }> } {
    const runFile = this.runRecords.fileFor();
    const worker = cluster.fork({ [WORKER_ENV]: JSON.stringify({ ...options, runFile }) });
    const managed: Managed = { worker, index: options.index, startedAt: Date.now(), phase: options.standby ? "standby" : "starting", liveness: new Liveness(), runFile, budget: 0 };
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
          this.runRecords.discard(runFile);
          const how = signal ?? `exit code ${code}`;
          reject(loadError ?? new WorkerLoadError(`Worker ${managed.index} (pid ${worker.process.pid}) exited (${how}) before it was ready: it failed to boot.`, 1, false));
          return;
        }
        if (managed.phase === "ready" && !managed.swapping) this.onDeath(managed, code, signal);
        this.runRecords.discard(runFile);
      });
    });
    return { managed, ready };
  }

  private onMessage(managed: Managed, message: WorkerMessage, hooks: { resolve: (v: { managed: Managed; port: number }) => void; setLoadError: (e: WorkerLoadError) => void }): void {
    managed.liveness.beat();
    switch (message.type) {
      case "kaygraph:ready":
        traceReload("ready received");
        this.threads = message.settings.threads;
        if (this.options.followSettings) {
          this.workerCount = message.settings.workers;
          this.shutdownTimeoutMs = message.settings.shutdownTimeoutMs;
          this.limits = message.settings;
        }
        this.options.onLoad?.({ ok: true, modules: message.modules, settingsModules: message.settingsModules });
        this.crashes.recordReady();
        if (this.options.joinStores) this.storesOpened = true;
        managed.phase = "ready";
        managed.budget = requestBudget(this.limits.maxRequests, this.limits.maxRequestsJitter);
        managed.liveness.arm();
        hooks.resolve({ managed, port: message.port });
        return;
      case "kaygraph:load-failed":
        this.options.onLoad?.({ ok: false, modules: message.modules });
        hooks.setLoadError(new WorkerLoadError(message.message, message.exitCode));
        return;
      case "kaygraph:heartbeat": {
        const reason = managed.phase === "ready" && !managed.recycling && Date.now() >= (managed.recycleAfter ?? 0) ? recycleReason(message, { maxRequests: managed.budget, maxMemoryMb: this.limits.maxMemoryMb }) : undefined;
        if (reason) this.recycle(managed, reason, message);
        return;
      }
      case "kaygraph:standby":
        managed.onStandby?.();
        return;
      case "kaygraph:standby-warm":
        managed.warm = true;
        this.prepareStandby();
        return;
      case "kaygraph:draining":
        traceReload("draining received");
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
        return;
      case "kaygraph:swapped":
      case "kaygraph:swap-failed":
      case "kaygraph:swap-refused":
        managed.onSwap?.(message);
    }
  }

  private reply(managed: Managed, message: PrimaryMessage): void {
    if (managed.worker.isConnected()) managed.worker.send(message);
  }

  // #region watchdog and recycling

  private startWatchdog(): void {
    if (this.watchdog || this.stopping) return;
    // Checked often enough to act within ~a quarter of the timeout; cheap (a loop over a handful of workers).
    this.lastCheck = Date.now();
    this.watchdog = setInterval(() => this.checkLiveness(), WATCHDOG_CHECK_MS);
    this.watchdog.unref();
  }

  /** Kills (SIGKILL) every serving or draining worker whose main event loop has been silent too long. */
  private checkLiveness(now = Date.now()): void {
    const timeout = this.limits.workerTimeoutMs;
    // After a stall of our own (a loaded machine), heartbeats may wait unread in the IPC pipes: timers run
    // before I/O, so judge the workers at the next check, once those messages were read.
    const stalled = now - this.lastCheck > 2 * WATCHDOG_CHECK_MS;
    this.lastCheck = now;
    if (timeout <= 0 || this.stopping || stalled) return;
    for (const m of this.managed) {
      if ((m.phase !== "ready" && m.phase !== "retiring") || m.silenced || !m.liveness.expired(now, timeout)) continue;
      const pid = m.worker.process.pid;
      const silent = Math.round(m.liveness.silentFor(now) / 100) / 10;
      const lastRun = readRunRecord(m.runFile);
      const last = describeRun(lastRun, now);
      // A draining or recycled worker is being replaced already; a serving one is replaced by onDeath.
      m.silenced = true;
      this.options.logger.error({ worker: m.index, worker_pid: pid, silent_s: silent, last_run: lastRun ?? null }, "worker event loop silent; killed it");
      this.options.say(`kaygraph: worker ${m.index} (pid ${pid}) silent for ${silent}s (limit ${timeout / 1000}s; last run: ${last}); killed it (SIGKILL)`);
      m.worker.process.kill("SIGKILL");
    }
  }

  /** Replaces a healthy worker past its request or memory budget: the new one ready first, then the old drains. */
  private recycle(managed: Managed, reason: RecycleReason, usage: { requests: number; rssMb: number }): void {
    if (this.stopping) return;
    managed.recycling = reason;
    const pid = managed.worker.process.pid;
    const why = reason === "max_requests" ? `served ${usage.requests} requests (max-requests ${managed.budget})` : `resident memory ${Math.round(usage.rssMb)} MB > max-memory ${this.limits.maxMemoryMb} MB`;
    this.metrics.restarted(reason);
    this.options.logger.info({ worker: managed.index, worker_pid: pid, reason, requests: usage.requests, rss_mb: Math.round(usage.rssMb) }, "recycling worker");
    this.options.say(`kaygraph: recycling worker ${managed.index} (pid ${pid}): ${why}`);
    void this.serially(async () => {
      // A reload that ran meanwhile replaced it already.
      if (managed.phase !== "ready" || this.stopping) return;
      try {
        await this.fork(false);
      } catch (error) {
        // The code on disk no longer loads: keep this worker serving and try again in a while.
        this.options.say(`kaygraph: could not start a replacement for worker ${managed.index}; it keeps serving:\n${(error as Error).message}`);
        managed.recycling = undefined;
        managed.recycleAfter = Date.now() + 30_000;
        return;
      }
      await this.retire(managed, true);
    });
  }

  // #endregion

  // #region crashes

  /** A worker died after it was ready: replace it with backoff, forever (unless it was being replaced anyway). */
  private onDeath(managed: Managed, code: number | null, signal: string | null): void {
    if (this.stopping) return;
    // Recycling started its replacement already.
    if (managed.recycling) return;
    const reason: RestartReason = managed.silenced ? "timeout" : "crash";
    const pid = managed.worker.process.pid;
    const othersServing = [...this.managed].some((m) => m.phase === "ready");
    const delay = this.crashes.recordDeath(Date.now() - managed.startedAt, othersServing);
    const how = signal ?? `exit code ${code}`;
    this.metrics.restarted(reason);
    this.options.logger.warn({ worker: managed.index, worker_pid: pid, code, signal, reason, restart_in_ms: delay, last_run: readRunRecord(managed.runFile) ?? null }, "worker died; replacing it");
    this.options.say(`kaygraph: worker ${managed.index} (pid ${pid}) died (${how}); replacing it in ${delay} ms`);
    this.replaceAfter(delay);
  }

  private replaceAfter(delay: number): void {
    setTimeout(() => {
      if (this.stopping) return;
      this.fork(false).catch((error: unknown) => this.onBootFailure(error));
    }, delay);
  }

  /** A replacement could not become ready: try again with backoff while a worker serves; else give up. */
  private onBootFailure(error: unknown): void {
    if (this.stopping) return;
    const serving = [...this.managed].some((m) => m.phase === "ready");
    const delay = this.crashes.recordBootFailure(serving);
    const message = (error as Error).message;
    if (delay === undefined) {
      const fatal = new KaygraphError(Errors.ServerCrashLoop, { message: `No worker is serving and ${this.crashes.bootFailuresInARow} replacements in a row failed to boot (last: ${message.split("\n")[0]}); giving up.` });
      this.options.logger.fatal({ boot_failures: this.crashes.bootFailuresInARow }, fatal.message);
      this.options.say(message);
      this.fatal?.(fatal);
      return;
    }
    this.options.logger.error({ boot_failures: this.crashes.bootFailuresInARow, restart_in_ms: delay }, "replacement worker failed to boot");
    this.options.say(`kaygraph: replacement worker failed to boot; trying again in ${delay} ms:\n${message}`);
    this.replaceAfter(delay);
  }

  // #endregion
}
