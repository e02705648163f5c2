import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineGraph } from "../../../src/definition/define.js";
import { DefinitionRunError } from "../../../src/definition/run-errors.js";
import { Graph, Node } from "../../../src/graph/index.js";
import type { RunEvent } from "../../../src/graph/events.js";
import { HIDDEN_GRAPH_ERROR, publicRunError } from "../../../src/runs/public.js";
import { createRunService, type RunInfo, type RunObserver } from "../../../src/runs/service.js";
import { registryOf, testConfig } from "../../helpers/app-server.js";

class Shout extends Node {
  override prep(shared: { input: { text: string } }) {
    return shared.input.text;
  }
  override exec(text: string) {
    if (text === "boom") throw new Error("secret internals");
    return text.toUpperCase();
  }
  override post(shared: { output?: unknown }, _p: unknown, exec: string) {
    shared.output = { text: exec };
    return undefined;
  }
}

const shout = defineGraph({ name: "shout", input: z.object({ text: z.string() }), output: z.object({ text: z.string() }), graph: () => new Graph(new Shout()) });

function service(debug = false) {
  const seen: Array<{ info: RunInfo; events: RunEvent[]; outcome?: string }> = [];
  const observer: RunObserver = {
    begin(info) {
      const entry: (typeof seen)[number] = { info, events: [] };
      seen.push(entry);
      return { onEvent: (e) => entry.events.push(e), end: (outcome) => (entry.outcome = outcome) };
    },
  };
  const runs = createRunService({ config: testConfig(), registry: registryOf([["shout", 1, shout]]), debug, observers: [observer] });
  return { runs, seen, graph: runs.find("shout") ?? expect.unreachable() };
}

describe("run service", () => {
  it("validates once, with one message for every transport, before any observer sees a run", async () => {
    const { runs, seen, graph } = service();
    const failure = await runs.start(graph, { text: 1 }, { transport: "sync", requestId: "r1" }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DefinitionRunError);
    expect((failure as DefinitionRunError).code).toBe("VALIDATION_ERROR");
    expect((failure as DefinitionRunError).message).toMatch(/^Invalid input for shout v1:\ntext: /);
    expect(() => runs.check(graph, {})).toThrow(/Invalid input for shout v1/);
    expect(seen).toEqual([]);
  });

  it("runs inline without a pool, reports events to observers and the caller, and the outcome", async () => {
    const { runs, seen, graph } = service();
    expect(runs.executionOf(graph)).toBe("inline");
    const events: RunEvent[] = [];
    const output = await runs.start(graph, { text: "hi" }, { transport: "ws", requestId: "r2", onEvent: (e) => events.push(e) });
    expect(output).toEqual({ text: "HI" });
    expect(events.map((e) => e.type)).toEqual(["start", "node_start", "node_end", "result"]);
    expect(seen[0]?.info).toMatchObject({ transport: "ws", requestId: "r2", runId: "r2", execution: "inline" });
    expect(seen[0]?.events).toEqual(events);
    expect(seen[0]?.outcome).toBe("completed");
  });

  it("hides GRAPH_ERROR messages from HTTP/SSE/WS callers outside debug, keeps them for observers and tasks", async () => {
    const { runs, seen, graph } = service();
    const wsEvents: RunEvent[] = [];
    await expect(runs.start(graph, { text: "boom" }, { transport: "stream", requestId: "r3", onEvent: (e) => wsEvents.push(e) })).rejects.toMatchObject({ code: "GRAPH_ERROR" });
    expect(wsEvents.at(-1)).toMatchObject({ type: "error", error: HIDDEN_GRAPH_ERROR, error_code: "GRAPH_ERROR" });
    expect(seen[0]?.events.at(-1)).toMatchObject({ error: "secret internals" });
    expect(seen[0]?.outcome).toBe("graph_error");
    const taskEvents: RunEvent[] = [];
    await runs.start(graph, { text: "boom" }, { transport: "task", requestId: "r4", onEvent: (e) => taskEvents.push(e) }).catch(() => undefined);
    expect(taskEvents.at(-1)).toMatchObject({ error: "secret internals" });
  });

  it("maps every run error code to one public status and code", () => {
    const cases: Array<[DefinitionRunError["code"], number, string]> = [
      ["VALIDATION_ERROR", 422, "VALIDATION_ERROR"],
      ["TIMEOUT", 504, "TIMEOUT"],
      ["CANCELLED", 503, "UNAVAILABLE"],
      ["ABORTED", 503, "UNAVAILABLE"],
      ["RESOURCE_EXHAUSTED", 500, "RESOURCE_EXHAUSTED"],
      ["GRAPH_ERROR", 500, "GRAPH_ERROR"],
      ["MAX_STEPS", 500, "GRAPH_ERROR"],
    ];
    for (const [code, status, publicCode] of cases) {
      const answer = publicRunError(new DefinitionRunError(code, "why", { node: "N" }), false);
      expect(answer, code).toMatchObject({ status, code: publicCode });
    }
    expect(publicRunError(new DefinitionRunError("GRAPH_ERROR", "why", { node: "N" }), false)).toEqual({ status: 500, code: "GRAPH_ERROR", message: HIDDEN_GRAPH_ERROR });
    expect(publicRunError(new DefinitionRunError("GRAPH_ERROR", "why", { node: "N" }), true)).toEqual({ status: 500, code: "GRAPH_ERROR", message: "why", details: { node: "N" } });
  });
});
