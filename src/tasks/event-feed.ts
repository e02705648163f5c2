/**
 * One live subscription to a task's events, shared by both backends.
 *
 * Notifications (UDP doorbell, Redis pub/sub) are only hints that "task X may have new events"; the stored
 * events are the truth. Every delivery is checked against the last delivered seq, so a lost, late or
 * duplicated notification can delay an event but never drop, reorder or repeat one, and a periodic re-read
 * covers notifications that never arrive (a dropped datagram, a Redis reconnect).
 */
import { isFinalEvent } from "../graph/events.js";
import type { TaskEvent, TaskEventListener } from "./types.js";

/** Events read from the store at a time. */
const READ_PAGE = 128;

/** How a feed reads and is told about trouble. */
export interface EventFeedOptions {
  /** Stored events with seq > afterSeq, in order, at most `limit` of them. */
  read: (afterSeq: number, limit: number) => Promise<TaskEvent[]>;
  /** Re-read period when no notification comes. */
  pollMs: number;
  onError: (error: unknown) => void;
  /** Called once when the feed ends (terminal event delivered, or closed). */
  onClose?: () => void;
}

/**
 * Delivers every event with seq > `afterSeq` to `listener`, in order, then closes after the terminal one.
 *
 * @example
 * const feed = new EventFeed(0, (e) => send(e), { read: (s, limit) => store.events(id, s, limit), pollMs: 1000, onError });
 * feed.start(); // then feed.hint() whenever a notification for this task arrives
 */
export class EventFeed {
  private last: number;
  private pulling = false;
  private dirty = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    afterSeq: number,
    private readonly listener: TaskEventListener,
    private readonly options: EventFeedOptions,
  ) {
    this.last = afterSeq;
  }

  /** Reads what is stored so far and starts the fallback re-reads. Call after notifications are wired. */
  start(): void {
    if (this.closed) return;
    this.timer = setInterval(() => this.hint(), this.options.pollMs);
    this.timer.unref();
    void this.pull();
  }

  /** A notification arrived; `event` is the new event when the transport carries it (a fast path). */
  hint(event?: TaskEvent): void {
    if (this.closed) return;
    if (event !== undefined && event.seq <= this.last) return;
    if (event !== undefined && !this.pulling && event.seq === this.last + 1) {
      this.deliver(event);
      return;
    }
    void this.pull();
  }

  /** Stops delivering. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.options.onClose?.();
  }

  private async pull(): Promise<void> {
    // One read at a time; hints during a read cause exactly one more read afterwards.
    if (this.pulling) {
      this.dirty = true;
      return;
    }
    this.pulling = true;
    try {
      do {
        this.dirty = false;
        // Page by page: a subscriber that pauses (a slow socket) and resumes later re-reads one page at most,
        // not everything stored after it.
        let page: TaskEvent[];
        do {
          page = await this.options.read(this.last, READ_PAGE);
          for (const event of page) {
            if (this.closed) return;
            if (event.seq > this.last) this.deliver(event);
          }
        } while (page.length === READ_PAGE && !this.closed);
      } while (this.dirty && !this.closed);
    } catch (error) {
      // The next hint or poll reads again from the same seq, so nothing is lost.
      this.options.onError(error);
    } finally {
      this.pulling = false;
    }
  }

  private deliver(event: TaskEvent): void {
    this.last = event.seq;
    try {
      this.listener(event);
    } catch (error) {
      // A subscriber's bug must not stop delivery to it or break the store (same rule as run listeners).
      process.emitWarning(`A task event listener threw: ${error instanceof Error ? error.message : String(error)}`, { code: "KG_EVENT_LISTENER" });
    }
    if (isFinalEvent(event)) this.close();
  }
}
