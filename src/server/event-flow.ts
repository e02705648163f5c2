/**
 * What every streaming transport (SSE runs, SSE task events, WebSocket) shares: the event a caller may see,
 * and a task-event pump that respects the consumer's pace.
 */
import type { ResolvedConfig } from "../config/schema.js";
import { isFinalEvent } from "../graph/events.js";
import { HIDDEN_GRAPH_ERROR, publicEvent, UNSERIALISABLE } from "../runs/public.js";
import type { TaskEvent, TaskRecord, TaskStore } from "../tasks/index.js";

// The public view of run events is the run service's (runs/public.ts); re-exported for the task routes.
export { HIDDEN_GRAPH_ERROR, publicEvent };

/**
 * A stored task event as a caller may see it: {@link publicEvent}, and the same for the message of a `retry`
 * event (a failed attempt's GRAPH_ERROR). The store keeps the full message for operators.
 *
 * @example
 * sse.send(publicTaskEvent(event, ctx.debug));
 */
export function publicTaskEvent(event: TaskEvent, debug: boolean): TaskEvent {
  if (event.type !== "retry") return publicEvent(event, debug);
  if (debug || event.error_code !== "GRAPH_ERROR") return event;
  return { ...event, error: HIDDEN_GRAPH_ERROR };
}

/**
 * A task record as a caller may see it: a GRAPH_ERROR's message is replaced outside debug, as in
 * {@link publicEvent}; `GET /tasks/{id}` thus answers what the task's `error` event says.
 *
 * @example
 * res.json(publicTask(await store.get(id), ctx.debug));
 */
export function publicTask(task: TaskRecord, debug: boolean): TaskRecord {
  if (debug || task.error === null) return task;
  if (task.error.error_code === "GRAPH_ERROR") return { ...task, error: { ...task.error, message: HIDDEN_GRAPH_ERROR } };
  if (task.error.error_code === "INTERNAL_ERROR") return { ...task, error: { ...task.error, message: UNSERIALISABLE } };
  return task;
}

/**
 * The buffered bytes at which a task-event pump pauses for its consumer: a quarter of the slow-consumer
 * limit, at most 1 MiB, so a catch-up on a large task never comes near that limit.
 */
export function pauseMark(config: ResolvedConfig): number {
  return Math.min(1024 * 1024, Math.floor(config.ws.maxBufferedBytes / 4));
}

/** Where a {@link TaskEventPump} writes. */
export interface EventSink {
  /** Writes one event; returns false when the consumer is behind (the pump then pauses). */
  write(event: TaskEvent): boolean;
  /** Calls `resume` once the consumer has caught up (never synchronously). */
  whenWritable(resume: () => void): void;
}

/**
 * Delivers a task's events after `afterSeq` to a sink, in order, without gap or duplicate (the store's
 * subscribe guarantees that), and with flow control: when the sink is behind, the store subscription is
 * stopped and later resumed from the last seq written. A slow reader of a large task thus costs a re-read,
 * never unbounded memory.
 *
 * @example
 * const pump = new TaskEventPump(store, taskId, lastEventId, sink, () => sse.close()).start();
 * res.on("close", () => pump.stop());
 */
export class TaskEventPump {
  private last: number;
  private state: "idle" | "running" | "paused" | "ended" = "idle";
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly store: TaskStore,
    private readonly taskId: string,
    afterSeq: number,
    private readonly sink: EventSink,
    /** Called once after the terminal event was written. */
    private readonly onEnd: () => void = () => undefined,
  ) {
    this.last = afterSeq;
  }

  /** The seq of the last event written. */
  get lastSeq(): number {
    return this.last;
  }

  get ended(): boolean {
    return this.state === "ended";
  }

  start(): this {
    if (this.state === "idle") this.subscribe();
    return this;
  }

  /** Stops for good (client gone, cancel). Idempotent. */
  stop(): void {
    if (this.state === "ended") return;
    this.state = "ended";
    this.unsubscribe();
  }

  private subscribe(): void {
    this.state = "running";
    // The store may deliver synchronously inside subscribe(): hold its handle in an object.
    const sub: { stop?: () => void; stale: boolean } = { stale: false };
    const stop = (): void => {
      sub.stale = true;
      sub.stop?.();
    };
    this.unsubscribe = stop;
    sub.stop = this.store.subscribe(this.taskId, this.last, (event) => {
      if (sub.stale || this.state !== "running") return;
      this.last = event.seq;
      const more = this.sink.write(event);
      if (isFinalEvent(event)) {
        this.state = "ended";
        stop();
        this.onEnd();
      } else if (!more) {
        this.state = "paused";
        stop();
        this.sink.whenWritable(() => {
          if (this.state === "paused") this.subscribe();
        });
      }
    });
    if (sub.stale) sub.stop();
  }
}
