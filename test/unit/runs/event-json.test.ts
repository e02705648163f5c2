import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineGraph } from "../../../src/definition/define.js";
import { Graph, Node } from "../../../src/graph/index.js";
import type { RunEvent } from "../../../src/graph/events.js";
import { jsonText } from "../../../src/graph/json-text.js";
import { JsonEventGate } from "../../../src/runs/event-json.js";
import { publicRunError, UNSERIALISABLE } from "../../../src/runs/public.js";
import { createRunService } from "../../../src/runs/service.js";
import { DefinitionRunError } from "../../../src/definition/run-errors.js";
import { registryOf, testConfig } from "../../helpers/app-server.js";

/** What JSON cannot carry, by name. */
function value(kind: string): unknown {
  if (kind === "bigint") return { n: 10n };
  if (kind === "circular") {
    const a: Record<string, unknown> = {};
    a.self = a;
    return a;
  }
  if (kind === "deep") {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    return v;
  }
  if (kind === "tojson") return { toJSON: () => { throw new Error("toJSON exploded"); } };
  return { ok: kind };
}

class Produce extends Node {
  override prep(shared: { input: { kind: string; where: string } }) {
    return shared.input;
  }
  override async exec(input: { kind: string; where: string }) {
    if (input.where === "event") this.emit(value(input.kind));
    // The run goes on after the bad event unless it watches its signal: it must be stopped.
    if (input.where === "event") {
      await new Promise((_resolve, reject) => {
        if (this.signal.aborted) reject(new Error("stopped"));
        this.signal.addEventListener("abort", () => reject(new Error("stopped")), { once: true });
      });
    }
    return input.where === "result" ? value(input.kind) : { ok: true };
  }
  override post(shared: { output?: unknown }, _p: unknown, out: unknown) {
    shared.output = out;
    return undefined;
  }
}

const produce = defineGraph({ name: "produce", input: z.object({ kind: z.string(), where: z.enum(["result", "event"]) }), output: z.any(), graph: () => new Graph(new Produce()) });

describe("jsonText", () => {
  it("never throws: BigInt, cycles, 100,000 levels, a throwing toJSON", () => {
    for (const kind of ["bigint", "circular", "deep", "tojson"]) expect(jsonText(value(kind)).ok, kind).toBe(false);
    expect(jsonText({ a: 1 })).toEqual({ ok: true, text: '{"a":1}' });
    expect(jsonText(undefined).ok).toBe(false);
  });
});

describe("run service, onEventJson (inline)", () => {
  const runs = createRunService({ config: testConfig(), registry: registryOf([["produce", 1, produce]]) });
  const graph = runs.find("produce") ?? expect.unreachable();

  for (const kind of ["bigint", "circular", "deep", "tojson"]) {
    for (const where of ["result", "event"]) {
      it(`a ${kind} ${where} ends the run with one INTERNAL_ERROR event under the failed event's seq, and nothing after`, async () => {
        const got: Array<{ event: RunEvent; json: string }> = [];
        const failure = await runs
          .start(graph, { kind, where }, { transport: "stream", requestId: `r-${kind}-${where}`, onEventJson: (event, json) => got.push({ event, json }) })
          .catch((e: unknown) => e);
        expect(failure).toBeInstanceOf(DefinitionRunError);
        expect(failure).toMatchObject({ code: "INTERNAL_ERROR", message: expect.stringContaining("cannot be serialised as JSON") });
        const last = got.at(-1)?.event;
        expect(last).toMatchObject({ type: "error", error_code: "INTERNAL_ERROR", error: UNSERIALISABLE });
        expect(got.filter((g) => g.event.type === "error" || g.event.type === "result")).toHaveLength(1);
        // Seqs stay 1, 2, 3… without a gap; every text is the event's JSON.
        expect(got.map((g) => g.event.seq)).toEqual(got.map((_, i) => i + 1));
        for (const g of got) expect(JSON.parse(g.json)).toEqual(JSON.parse(JSON.stringify(g.event)));
        expect(publicRunError(failure as DefinitionRunError, false)).toEqual({ status: 500, code: "INTERNAL_ERROR", message: UNSERIALISABLE });
      });
    }
  }

  it("passes serialisable events on untouched, and follows the caller's signal", async () => {
    const got: RunEvent[] = [];
    await expect(runs.start(graph, { kind: "fine", where: "result" }, { transport: "ws", requestId: "ok", onEventJson: (e) => got.push(e) })).resolves.toEqual({ ok: "fine" });
    expect(got.map((e) => e.type)).toEqual(["start", "node_start", "node_end", "result"]);
    const controller = new AbortController();
    const run = runs.start(graph, { kind: "fine", where: "event" }, { transport: "ws", requestId: "abort", signal: controller.signal, onEventJson: () => undefined });
    controller.abort(new Error("client gone"));
    await expect(run).rejects.toMatchObject({ code: "ABORTED" });
  });

  it("with the caller's own controller (as SSE and WebSocket pass it), stops the run through it: no second controller", async () => {
    const controller = new AbortController();
    const failure = await runs.start(graph, { kind: "bigint", where: "event" }, { transport: "stream", requestId: "own", controller, onEventJson: () => undefined }).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: "INTERNAL_ERROR" });
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBe(failure);
    expect(new JsonEventGate(() => undefined, { controller }, false).controller).toBe(controller);
    // And the caller's abort still stops the run.
    const cancel = new AbortController();
    const run = runs.start(graph, { kind: "fine", where: "event" }, { transport: "ws", requestId: "own-abort", controller: cancel, onEventJson: () => undefined });
    cancel.abort(new Error("client gone"));
    await expect(run).rejects.toMatchObject({ code: "ABORTED" });
  });
});
