// Exactness across processes sharing one SQLite file (the workers of one `serve`), and counts that survive
// a worker killed with SIGKILL.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createRateLimiter } from "../../../src/security/rate-limit/index.js";
import { tmpProject } from "../../helpers/tmp-project.js";
import { runChildren } from "./support/child-limiters.js";
import { rateLimitSettings } from "./support/limiter-settings.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("SQLite limiter across processes", () => {
  it("3 processes consuming at once allow exactly the limit, each count handed out once", async () => {
    const file = path.join(await tmpProject({}, { linkKaygraph: false }), ".kaygraph", "ratelimit.db");
    const jobs = [
      { key: "ip:10.0.0.1", spec: "10/minute", count: 10 },
      { key: "sub:carol", spec: "50/minute", count: 70 },
    ];
    const { results } = await runChildren(file, jobs, 3);
    const [ten, fifty] = [0, 1].map((job) => results.map((perChild) => perChild[job]!));
    expect(ten!.reduce((sum, r) => sum + r.allowed, 0)).toBe(10);
    expect(fifty!.reduce((sum, r) => sum + r.allowed, 0)).toBe(50);
    expect(results.flat().every((r) => r.unavailable === 0)).toBe(true);
    // Every `remaining` value appears exactly once: no two increments ever read the same count.
    expect(ten!.flatMap((r) => r.remaining).sort((a, b) => a - b)).toEqual(range(10));
    expect(fifty!.flatMap((r) => r.remaining).sort((a, b) => a - b)).toEqual(range(50));
  });

  it("keeps the count of a worker killed with SIGKILL", async () => {
    const file = path.join(await tmpProject({}, { linkKaygraph: false }), "ratelimit.db");
    const { results, children } = await runChildren(file, [{ key: "sub:dave", spec: "10/minute", count: 6 }], 1, "hold");
    expect(results[0]![0]!.allowed).toBe(6);
    children[0]!.kill("SIGKILL");
    expect((await children[0]!).signal).toBe("SIGKILL");
    const limiter = createRateLimiter({ config: rateLimitSettings(), store: { kind: "sqlite", file } });
    expect(await limiter.consume("sub:dave", "10/minute")).toMatchObject({ allowed: true, remaining: 3 });
    await limiter.close();
  });
});
