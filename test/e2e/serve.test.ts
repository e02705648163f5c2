import { describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli.js";
import { basicProject } from "../helpers/fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

describe("kaygraph serve (single process)", () => {
  it("--port 0 picks a free port, prints the URL, serves graphs and logs JSON lines on stdout", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const port = await server.ready();
    expect(server.output().stderr).toContain(`http://127.0.0.1:${port}`);
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": "e2e-1" }, body: JSON.stringify({ text: "hi" }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: { text: "hi" }, metadata: { request_id: "e2e-1", graph: "echo", version: 1 } });
    await server.waitFor('"request_id":"e2e-1"');
    const line = server.output().stdout.split("\n").find((l) => l.includes('"request_id":"e2e-1"'))!;
    expect(JSON.parse(line)).toMatchObject({ method: "POST", route: "/api/v1/echo", status: 200, request_id: "e2e-1" });
    expect(typeof JSON.parse(line).duration_ms).toBe("number");
  });

  it("SIGTERM: in-flight requests finish with 200, then exit 0", async () => {
    const cwd = await tmpProject(basicProject());
    const server = startCli(["serve", "--port", "0", "--host", "127.0.0.1", "--shutdown-timeout", "20"], { cwd });
    const port = await server.ready();
    const base = `http://127.0.0.1:${port}`;
    const slow = Array.from({ length: 5 }, (_, i) =>
      fetch(`${base}/api/v1/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `slow-${i}`, waitMs: 1500 }) }),
    );
    // Wait until the server is running all five (its in-progress gauge), rather than sleeping.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      if (/kaygraph_graph_runs_in_progress\{graph="echo",kind="sync"\} 5/.test(metrics)) break;
      if (Date.now() > deadline) throw new Error(`runs never reached 5 in flight:\n${metrics}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    server.kill("SIGTERM");
    await server.waitFor("draining");
    const results = await Promise.all(slow);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const { exitCode } = await server.exited();
    expect(exitCode).toBe(0);
  });

  it("refuses to start on a port in use with a clear message, exit 1", async () => {
    const cwd = await tmpProject(basicProject());
    const first = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const port = await first.ready();
    const second = startCli(["serve", "--port", String(port), "--host", "127.0.0.1"], { cwd });
    const { exitCode } = await second.exited();
    expect(exitCode).toBe(1);
    expect(second.output().stderr).toContain("KG_SERVER_LISTEN");
    expect(second.output().stderr).toContain("Another process uses that port");
  });
});
