/**
 * The serialisation gate of a streamed run (SSE, WebSocket): every event leaves the run service as JSON text,
 * serialised once, here. What JSON cannot carry (a BigInt, a cycle, a value nested deeper than the stack, a
 * `toJSON` that throws) never ends a stream in silence: the event is replaced by a terminal `error` event
 * `INTERNAL_ERROR` under the same seq, the run is aborted, and nothing of it goes out after that. Runs inline
 * and in threads alike (a thread sends structured clones, which carry BigInts and cycles JSON cannot).
 */
import { DefinitionRunError } from "../definition/run-errors.js";
import type { RunEvent } from "../graph/events.js";
import { jsonText } from "../graph/json-text.js";
import { messageOf } from "../graph/run-errors.js";
import { UNSERIALISABLE } from "./public.js";

/** Where a gate delivers: the event (as the caller may see it) and its JSON text. */
export type JsonEventListener = (event: RunEvent, json: string) => void;

/**
 * See the module comment. The gate stops the run through the run's abort controller: the caller's own when it
 * passes one (the SSE and WebSocket transports do: no second controller per run), else one of its own that
 * follows the caller's signal. Once it failed, `failure` is what the run ends with.
 *
 * @example
 * const gate = new JsonEventGate((event, json) => sse.sendText(event.type, event.seq, json), { controller }, false);
 */
export class JsonEventGate {
  readonly controller: AbortController;
  /** Set once an event could not be serialised: the run's outcome, whatever the run itself did after. */
  failure: DefinitionRunError | undefined;
  private readonly unfollow: () => void = () => undefined;

  constructor(
    private readonly deliver: JsonEventListener,
    abort: { controller?: AbortController | undefined; signal?: AbortSignal | undefined },
    /** Show the reason to the caller (dev, --debug); otherwise the log has it. */
    private readonly debug: boolean,
  ) {
    const { signal } = abort;
    if (abort.controller) this.controller = abort.controller;
    else {
      const own = (this.controller = new AbortController());
      if (signal?.aborted) own.abort(signal.reason);
      else if (signal) {
        const follow = (): void => own.abort(signal.reason);
        signal.addEventListener("abort", follow, { once: true });
        this.unfollow = () => signal.removeEventListener("abort", follow);
      }
    }
  }

  /** Delivers `event` as JSON; the first event that has none ends the run (see the module comment). */
  write(event: RunEvent): void {
    if (this.failure) return;
    const json = jsonText(event);
    if (json.ok) {
      this.deliver(event, json.text);
      return;
    }
    const what = event.type === "result" ? "result" : `${event.type} event`;
    this.failure = new DefinitionRunError("INTERNAL_ERROR", `The run's ${what} cannot be serialised as JSON (${messageOf(json.error)}).`, { cause: json.error });
    const ending: RunEvent = { type: "error", seq: event.seq, ts: Date.now(), error: this.debug ? this.failure.message : UNSERIALISABLE, error_code: "INTERNAL_ERROR" };
    this.deliver(ending, JSON.stringify(ending));
    this.controller.abort(this.failure);
  }

  /** Stops following the caller's signal. */
  dispose(): void {
    this.unfollow();
  }
}
