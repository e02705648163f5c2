import { describe, expect, it } from "vitest";
import { Histogram, Registry } from "prom-client";
import { bindHistogram } from "../../../src/server/bound-histogram.js";

const BUCKETS = [0.001, 0.01, 0.1, 1];

function histogram() {
  const registry = new Registry();
  const metric = new Histogram({ name: "kaygraph_test_seconds", help: "test", labelNames: ["route", "status"] as const, buckets: BUCKETS, registers: [registry] });
  return { registry, metric };
}

describe("bindHistogram", () => {
  it("counts exactly as prom-client's own observe: the same exported text", async () => {
    const own = histogram();
    const bound = histogram();
    const values = [0.0005, 0.001, 0.002, 0.05, 0.1, 0.7, 1, 3, 120];
    const ok = bindHistogram(bound.metric, { route: "/a", status: "200" });
    const failed = bindHistogram(bound.metric, { route: "/a", status: "500" });
    for (const v of values) {
      own.metric.labels({ route: "/a", status: "200" }).observe(v);
      ok.observe(v);
    }
    own.metric.labels({ route: "/a", status: "500" }).observe(0.2);
    failed.observe(0.2);
    expect(await bound.registry.metrics()).toBe(await own.registry.metrics());
    expect(() => ok.observe(Number.NaN)).toThrow(TypeError);
  });

  it("keeps counts a label set already had, and starts again after a registry reset", async () => {
    const { registry, metric } = histogram();
    metric.labels({ route: "/a", status: "200" }).observe(0.5);
    const ok = bindHistogram(metric, { route: "/a", status: "200" });
    ok.observe(0.5);
    expect(await registry.metrics()).toContain('kaygraph_test_seconds_count{route="/a",status="200"} 2');
    registry.resetMetrics();
    ok.observe(0.5);
    expect(await registry.metrics()).toContain('kaygraph_test_seconds_count{route="/a",status="200"} 1');
  });
});
