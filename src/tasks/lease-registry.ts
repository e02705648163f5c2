/**
 * The leases this process holds, so a cancel request (a doorbell ring, a pub/sub message, or a renewal that
 * sees the flag) can fire the right lease's signal. Shared by both backends.
 */
import type { ClaimedTask, Lease } from "./types.js";

/** The abort reason of a lease whose task someone cancelled; `code` matches what run errors report. */
export class TaskCancelRequest extends Error {
  readonly code = "CANCELLED";

  constructor() {
    super("The task was cancelled.");
    this.name = "TaskCancelRequest";
  }
}

/**
 * Leases held in this process, by task id.
 *
 * @example
 * const lease = registry.hold(task, token); // lease.signal fires on registry.cancelRequested(task.id)
 */
export class LeaseRegistry {
  private readonly held = new Map<string, { token: string; controller: AbortController }>();

  /** Registers a fresh claim and returns its lease. */
  hold(task: ClaimedTask, token: string): Lease {
    const controller = new AbortController();
    this.held.set(task.id, { token, controller });
    return { task, token, signal: controller.signal };
  }

  /** Someone asked to cancel `taskId`: fire its lease's signal if this process holds it. */
  cancelRequested(taskId: string): void {
    const entry = this.held.get(taskId);
    if (entry && !entry.controller.signal.aborted) entry.controller.abort(new TaskCancelRequest());
  }

  /** The lease ended (or was lost). */
  drop(lease: Lease): void {
    if (this.held.get(lease.task.id)?.token === lease.token) this.held.delete(lease.task.id);
  }

  /** True if this process holds `taskId`. */
  holds(taskId: string): boolean {
    return this.held.has(taskId);
  }

  get size(): number {
    return this.held.size;
  }
}
