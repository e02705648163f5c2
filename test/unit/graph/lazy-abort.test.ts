import { describe, expect, it } from "vitest";
import { LazyAbort } from "../../../src/graph/lazy-abort.js";

describe("LazyAbort", () => {
  it("tells its listener once, and a signal asked for after the abort is aborted with the same reason", () => {
    const abort = new LazyAbort();
    const heard: unknown[] = [];
    abort.listen((reason) => heard.push(reason));
    const reason = new Error("The client disconnected");
    abort.abort(reason);
    abort.abort(new Error("again"));
    expect(heard).toEqual([reason]);
    expect(abort.aborted).toBe(true);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it("aborts a signal made before the abort; a listener that stopped hears nothing; no reason is an AbortError", () => {
    const abort = new LazyAbort();
    const signal = abort.signal;
    const heard: unknown[] = [];
    const stop = abort.listen((reason) => heard.push(reason));
    stop();
    abort.abort();
    expect(heard).toEqual([]);
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe("AbortError");
  });
});
