import type { RunEvent } from "kaygraph";
import { describe, expect, it } from "vitest";
// Typed in-process handlers, written by `kaygraph generate` (npm test runs it first).
import { handlers } from "../.kaygraph/generated/routes.js";
import type { Progress } from "../graphs/report.js";

const report = handlers.report.v1;

describe("report", () => {
  it("plans, researches each topic and writes the report", async () => {
    const out = await report({ topics: ["Queues", "leases", "queues"], stepMs: 0 });
    expect(out.title).toBe("Report on queues, leases");
    expect(out.sections.map((s) => s.topic)).toEqual(["queues", "leases"]);
    expect(out).toMatchObject({ summary: "2 section(s), 4 finding(s).", steps: 4 });
  });

  it("reports progress as data events, in order", async () => {
    const events: RunEvent[] = [];
    await report({ topics: ["a", "b", "c"], stepMs: 1 }, { onEvent: (event) => events.push(event) });
    const progress = events.flatMap((e) => (e.type === "data" ? [e.chunk as Progress] : []));
    expect(progress.map((p) => `${p.stage} ${p.done}/${p.total}`)).toEqual(["plan 1/1", "research 1/3", "research 2/3", "research 3/3", "write 1/1"]);
    expect(events.at(-1)?.type).toBe("result");
  });

  it("stops between and during steps when the run is aborted", async () => {
    const controller = new AbortController();
    const events: RunEvent[] = [];
    const run = report({ topics: ["a", "b", "c"], stepMs: 60_000 }, { signal: controller.signal, onEvent: (e) => events.push(e) });
    controller.abort();
    await expect(run).rejects.toMatchObject({ code: "ABORTED" });
    expect(events.filter((e) => e.type === "data")).toEqual([]);
  });

  it("times out a run that takes too long", async () => {
    await expect(report({ topics: ["a"], stepMs: 60_000 }, { timeoutMs: 50 })).rejects.toMatchObject({ code: "TIMEOUT" });
  });

  it("rejects a report without topics", async () => {
    await expect(report({ topics: [] })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });
});
