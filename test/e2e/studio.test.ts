/** The studio at /_kaygraph/ in headless Chromium against `kaygraph dev`, and its serving rules. */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startCli } from "../helpers/cli.js";
import { ensureChromium, openBrowser, waitInPage } from "../helpers/chromium.js";
import { basicProject } from "../helpers/fixtures.js";
import { tmpProject } from "../helpers/tmp-project.js";

/** A graph that asks before it answers (human in the loop). */
const REVIEW_GRAPH = `
import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

class Review extends Node {
  post(shared) {
    const answer = this.interrupt({ question: "Publish?" });
    shared.output = { approved: answer.approved };
  }
}

export default defineGraph({
  name: "review",
  input: z.object({}),
  output: z.object({ approved: z.boolean() }),
  resume: z.object({ approved: z.boolean() }),
  graph: () => new Graph(new Review({ nodeId: "review" })),
});
`;

describe("the studio", () => {
  it("dev serves it offline under a strict CSP; from its form a graph streams its events onto the timeline and diagram, a background task opens with its result, an interrupted one is resumed, and a hot reload redraws the open graph", async () => {
    await ensureChromium();
    const cwd = await tmpProject(basicProject({ "graphs/review.ts": REVIEW_GRAPH }));
    const dev = startCli(["dev", "--port", "0"], { cwd });
    const site = `http://127.0.0.1:${await dev.ready()}`;
    const page0 = await fetch(`${site}/_kaygraph/`);
    expect(page0.status).toBe(200);
    const csp = page0.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(await page0.text()).not.toMatch(/https?:\/\//);
    expect((await fetch(`${site}/_kaygraph/assets/mermaid.min.js`)).status).toBe(200);
    const described = (await (await fetch(`${site}/_kaygraph/api/graphs`)).json()) as { graphs: Array<{ name: string; version: number; mermaid: string; input: { properties: object } }> };
    expect(described.graphs.map((g) => `${g.name}@${g.version}`)).toEqual(["echo@1", "loop@2", "review@1"]);
    expect(described.graphs[1]!.mermaid).toContain('"check"');

    const browser = await openBrowser();
    const page = await browser.newPage(`${site}/_kaygraph/`);
    await waitInPage(page, `document.body.dataset.ready === "true" && document.querySelectorAll("#graphs button").length === 3`);
    await waitInPage(page, `(document.querySelector('[data-graph="loop@2"]').click(), true)`);
    await waitInPage(page, `document.querySelector("#diagram svg") !== null && document.querySelector("#run-form input[name=times]") !== null`);
    await waitInPage(page, `(document.querySelector("#run-form input[name=times]").value = "2", document.querySelector("#run-stream").click(), true)`);
    await waitInPage(page, `document.querySelector("#run-status").dataset.state === "done"`);
    const timeline: string[] = await waitInPage(page, `[...document.querySelectorAll("#timeline li")].map((li) => li.dataset.type + "|" + li.textContent)`);
    expect(timeline.map((t) => t.split("|")[0])).toEqual(["start", "node_start", "node_end", "node_start", "node_end", "node_start", "node_end", "result"]);
    expect(timeline[2]).toMatch(/node_end check → again \([\d.]+ ms\)$/);
    expect(timeline[7]).toContain('result {"n":2}');
    expect(await waitInPage(page, `document.querySelectorAll("#diagram g.node.done").length`)).toBe(2);

    await waitInPage(page, `(document.querySelector("#run-task").click(), true)`);
    await waitInPage(page, `document.querySelector("#task-status-text")?.textContent === "completed"`);
    expect(await waitInPage(page, `document.querySelector("#task-result").textContent`)).toContain('"n": 2');
    expect(await waitInPage(page, `[...document.querySelectorAll("#task-events li")].map((li) => li.dataset.type).join(",")`)).toBe("start,node_start,node_end,node_start,node_end,node_start,node_end,result");
    expect(await waitInPage(page, `document.querySelectorAll("#task-list tr.task").length`)).toBeGreaterThanOrEqual(1);

    // Human in the loop: the task stops with a question, the studio shows it and resumes it with an answer.
    await waitInPage(page, `(document.querySelector('[data-graph="review@1"]').click(), true)`);
    await waitInPage(page, `document.querySelector("#run-task") !== null && document.querySelector("h2")?.textContent === "review v1"`);
    await waitInPage(page, `(document.querySelector("#run-task").click(), true)`);
    await waitInPage(page, `document.querySelector("#task-status-text")?.textContent === "interrupted" && document.querySelector("#resume-form") !== null`);
    expect(await waitInPage(page, `document.querySelector("#resume-form").textContent`)).toContain('"question":"Publish?"');
    await waitInPage(page, `(document.querySelector("#resume-value").value = '{"approved": true}', document.querySelector("#resume").click(), true)`);
    await waitInPage(page, `document.querySelector("#task-status-text")?.textContent === "completed"`);
    expect(await waitInPage(page, `document.querySelector("#task-result").textContent`)).toContain('"approved": true');
    // The same timeline goes on after the resume: the second attempt's events follow the interrupt.
    const reviewEvents: string = await waitInPage(page, `(() => { const types = [...document.querySelectorAll("#task-events li")].map((li) => li.dataset.type).join(","); return types.endsWith(",result") && types; })()`);
    expect(reviewEvents).toMatch(/^start,node_start,interrupt,.*node_end,result$/);

    // Hot reload: the open graph is redrawn from the new code.
    await dev.waitFor("kaygraph: watcher ready");
    await writeFile(path.join(cwd, "graphs/review.ts"), REVIEW_GRAPH.replace('name: "review",', 'name: "review",\n  description: "Asks before it publishes",'));
    await waitInPage(page, `document.querySelector("#description")?.textContent === "Asks before it publishes" && document.querySelector("#reloaded").textContent.startsWith("reloaded")`, 60_000);
  });

  it("serve does not serve it unless server.studio is on", async () => {
    const cwd = await tmpProject(basicProject());
    const off = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd });
    const on = startCli(["serve", "--port", "0", "--host", "127.0.0.1"], { cwd, env: { KAYGRAPH_STUDIO: "true" } });
    const [offPort, onPort] = await Promise.all([off.ready(), on.ready()]);
    expect((await fetch(`http://127.0.0.1:${offPort}/_kaygraph/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${onPort}/_kaygraph/`)).status).toBe(200);
  });
});
