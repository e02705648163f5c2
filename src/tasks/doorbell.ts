/**
 * Cross-process wake-ups for the embedded (SQLite) store: a UDP datagram on loopback.
 *
 * Why UDP: every process that waits for something (a runner waiting for tasks, a subscriber waiting for
 * events, a worker holding a task that may be cancelled) binds a socket on 127.0.0.1 and registers its port in
 * `kg_doorbells`; a process that changes something sends one tiny datagram ("task", "cancel <id>",
 * "event <id>") to each registered port. That costs microseconds and says *what* changed. The alternatives
 * were worse: `fs.watch` on the WAL fires on every write of every process (lease renewals included) without
 * saying what changed, and differs per OS; polling SQLite trades latency for CPU.
 * Loss is harmless: notifications are hints and every consumer also re-checks SQLite on a timer.
 * Stale registrations (a killed process) are pruned by pid liveness and a heartbeat age.
 */
import dgram from "node:dgram";
import type { Statements } from "./sqlite-schema.js";

/** How often a listening process refreshes its registration, and when others consider it gone. */
const HEARTBEAT_MS = 5_000;
const STALE_MS = 30_000;
/** Datagram payload cap; loopback allows ~64 KiB, stay well below. */
const MAX_DATAGRAM = 8_192;

type Listener = (id: string) => void;

/**
 * Rings other processes (and this one) about changes, and lets this process listen.
 *
 * @example
 * const bell = new Doorbell(statements, onError);
 * const off = bell.on("task", () => tryClaim());
 * bell.ring("task");
 */
export class Doorbell {
  private socket: Promise<dgram.Socket> | undefined;
  private port: number | undefined;
  private listening: Promise<void> | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly queued = new Set<string>();
  /** Rings for this process's listeners only (see {@link ring}'s `here`). */
  private readonly queuedHere = new Set<string>();
  private flushScheduled = false;
  /** The flush in progress, so close() lets the last rings go out. */
  private sending: Promise<void> | undefined;
  private closed = false;
  private readonly listeners = new Map<string, Set<Listener>>();
  /** The registered ports as read inside the owner's last committed write transaction (see {@link portsCommitted}). */
  private committedPorts: readonly number[] | undefined;

  constructor(
    private readonly sql: Statements,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Calls `listener` for rings of `kind` (for "cancel"/"event" with the task id). Returns the remover. */
  on(kind: "task" | "cancel" | "event" | "webhook", listener: Listener, id = ""): () => void {
    const key = `${kind}:${id}`;
    let set = this.listeners.get(key);
    if (set === undefined) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    void this.listen();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  /**
   * Notifies every process (this one included) on the next tick; rings in one tick are coalesced. `here`:
   * only this process's listeners hear it (no datagram), for a change this process will act on itself.
   */
  ring(kind: "task" | "cancel" | "event" | "webhook", id = "", options: { here?: boolean } = {}): void {
    if (this.closed) return;
    (options.here === true ? this.queuedHere : this.queued).add(`${kind}:${id}`);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush());
  }

  private flush(): Promise<void> {
    const lines = [...this.queued];
    const here = [...this.queuedHere].filter((line) => !this.queued.has(line));
    this.queued.clear();
    this.queuedHere.clear();
    this.flushScheduled = false;
    for (const line of here) this.dispatch(line);
    if (lines.length === 0) return this.sending ?? Promise.resolve();
    for (const line of lines) this.dispatch(line);
    // Sends stay in order and close() can wait for the last one.
    const next: Promise<void> = (this.sending ?? Promise.resolve()).then(() => this.send(lines)).finally(() => {
      if (this.sending === next) this.sending = undefined;
    });
    this.sending = next;
    return next;
  }

  /** Sends what is still queued, stops listening and removes this process's registration. */
  async close(): Promise<void> {
    if (this.queued.size + this.queuedHere.size > 0) await this.flush();
    await this.sending;
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.port !== undefined) this.sql.prepare("DELETE FROM kg_doorbells WHERE port = ? AND pid = ?").run(this.port, process.pid);
    // A bind failure was already reported by listen(); there is nothing to close then.
    const socket = await this.socket?.catch(() => undefined);
    await new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));
  }

  /**
   * The registered ports (`SELECT port FROM kg_doorbells`) as read inside a write transaction that has just
   * committed, or undefined when they could not be read. Rings go out after the change they tell of committed,
   * so the owner's last committed write transaction is that change's or a later one: a process that registered
   * before it is among these ports, and one that registered after it sees the change when it looks at the
   * database after ready(), exactly as with ports read when the ring goes out. A send then needs no read
   * transaction of its own (it cost ~10 µs per ring flush, one per event-loop turn of a busy durable run).
   * Only for an owner that rings after its changes committed through the transactions that report here.
   */
  portsCommitted(ports: readonly number[] | undefined): void {
    this.committedPorts = ports;
  }

  /**
   * Resolves once this process is registered, so rings sent from now on reach it. A waiter must await this
   * before it looks at the database, or a change made in between would ring nobody.
   */
  ready(): Promise<void> {
    return this.listen();
  }

  /** Binds and registers (once). Until then this process only sends. */
  private listen(): Promise<void> {
    this.listening ??= (async () => {
      await this.bind();
      if (this.closed) return;
      this.register();
      this.heartbeat = setInterval(() => this.register(), HEARTBEAT_MS);
      this.heartbeat.unref();
    })().catch((error: unknown) => this.onError(error));
    return this.listening;
  }

  private bind(): Promise<dgram.Socket> {
    this.socket ??= new Promise((resolve, reject) => {
      const socket = dgram.createSocket("udp4");
      socket.once("error", reject);
      socket.on("message", (message) => this.receive(message.toString()));
      // exclusive: under node:cluster a worker's bind() is otherwise shared through the primary, so every
      // worker gets the same port, registers it once, and skips it as its own: no worker would hear another.
      socket.bind({ port: 0, address: "127.0.0.1", exclusive: true }, () => {
        socket.off("error", reject);
        socket.on("error", (error) => this.onError(error));
        // The doorbell must never keep a process alive on its own.
        socket.unref();
        this.port = socket.address().port;
        resolve(socket);
      });
    });
    return this.socket;
  }

  private register(): void {
    if (this.closed || this.port === undefined) return;
    const now = Date.now();
    try {
      this.sql.prepare("INSERT INTO kg_doorbells (port, pid, seen_at) VALUES (?, ?, ?) ON CONFLICT (port) DO UPDATE SET pid = excluded.pid, seen_at = excluded.seen_at").run(this.port, process.pid, now);
      this.sql.prepare("DELETE FROM kg_doorbells WHERE seen_at < ?").run(now - STALE_MS);
      const rows = this.sql.prepare("SELECT port, pid FROM kg_doorbells WHERE pid != ?").all(process.pid) as { port: number; pid: number }[];
      for (const row of rows) if (!isAlive(row.pid)) this.sql.prepare("DELETE FROM kg_doorbells WHERE port = ? AND pid = ?").run(row.port, row.pid);
    } catch (error) {
      this.onError(error);
    }
  }

  private async send(lines: string[]): Promise<void> {
    if (this.closed) return;
    try {
      const socket = await this.bind();
      const ports = (this.committedPorts ?? (this.sql.prepare("SELECT port FROM kg_doorbells").pluck().all() as number[])).filter((port) => port !== this.port);
      // No other process listens (a lone worker): nothing to build.
      if (ports.length === 0) return;
      const sends: Promise<void>[] = [];
      for (const payload of chunk(lines)) {
        for (const port of ports) {
          sends.push(new Promise((resolve) => socket.send(payload, port, "127.0.0.1", (error) => resolve(error ? this.onError(error) : undefined))));
        }
      }
      await Promise.all(sends);
    } catch (error) {
      this.onError(error);
    }
  }

  private receive(text: string): void {
    for (const line of text.split("\n")) if (line) this.dispatch(line);
  }

  private dispatch(line: string): void {
    const kind = line.slice(0, line.indexOf(":"));
    const id = line.slice(kind.length + 1);
    // Copies of the sets (a listener may remove itself), made only when someone listens.
    const exact = this.listeners.get(line);
    if (exact !== undefined) for (const listener of [...exact]) listener(id);
    // "task" has no id; cancel/event listeners registered without id hear every task.
    const any = id ? this.listeners.get(`${kind}:`) : undefined;
    if (any !== undefined) for (const listener of [...any]) listener(id);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but another user's process; only ESRCH means gone.
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

function chunk(lines: string[]): Buffer[] {
  const out: Buffer[] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length + 1 > MAX_DATAGRAM && current.length > 0) {
      out.push(Buffer.from(current.join("\n")));
      current = [];
      size = 0;
    }
    current.push(line);
    size += line.length + 1;
  }
  if (current.length > 0) out.push(Buffer.from(current.join("\n")));
  return out;
}
