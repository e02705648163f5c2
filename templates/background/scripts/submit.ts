/**
 * Submits a report as a background task with the generated typed client, shows its progress and prints
 * the finished report.
 *
 *   npm run dev                                 # in one terminal
 *   npm run submit -- queues leases retries     # in another
 *
 * KAYGRAPH_URL picks the server (default http://127.0.0.1:3000); KAYGRAPH_TOKEN is sent as a bearer token
 * when set (servers started with --auth jwt).
 */
import { randomUUID } from "node:crypto";
import { createClient, KaygraphApiError, type ReportV1Output, type Task } from "../.kaygraph/generated/client.js";
import type { Progress } from "../graphs/report.js";

const client = createClient({
  baseUrl: process.env["KAYGRAPH_URL"] ?? "http://127.0.0.1:3000",
  token: process.env["KAYGRAPH_TOKEN"],
});

/** Submits `topics` and resolves with the task once it is completed, failed or cancelled. */
async function submitAndWait(topics: string[], stepMs?: number): Promise<Task<ReportV1Output>> {
  // The same key twice (a retry after a network error, say) returns the same task instead of a second one.
  const accepted = await client.report.v1.submit({ topics, ...(stepMs !== undefined && { stepMs }) }, { idempotencyKey: randomUUID() });
  console.error(`task ${accepted.task_id} accepted; status at ${accepted.check_url}`);
  // Live events of the task (SSE); the client reconnects and resumes if the connection drops.
  for await (const event of client.subscribe<ReportV1Output>(accepted.task_id)) {
    if (event.type === "data") {
      const p = event.chunk as Progress;
      console.error(`  ${p.stage.padEnd(8)} ${p.done}/${p.total}  ${p.message}`);
    } else if (event.type === "retry") {
      console.error(`  attempt ${event.attempt} failed (${event.error}); retrying in ${event.delay_ms} ms`);
    }
  }
  // The events end once the task is completed, failed or cancelled; the task record has the outcome.
  return client.task<ReportV1Output>(accepted.task_id);
}

const topics = process.argv.slice(2);
const stepMs = process.env["STEP_MS"] === undefined ? undefined : Number(process.env["STEP_MS"]);
try {
  const task = await submitAndWait(topics.length > 0 ? topics : ["queues", "leases", "retries"], stepMs);
  if (task.status !== "completed") {
    console.error(`task ${task.id} ${task.status}: ${task.error?.error_code ?? ""} ${task.error?.message ?? ""}`);
    process.exitCode = 1;
  } else {
    console.log(JSON.stringify(task.result, null, 2));
  }
} catch (error) {
  if (!(error instanceof KaygraphApiError)) throw error;
  console.error(`${error.status} ${error.error_code}: ${error.message} (request ${error.request_id ?? "?"})`);
  process.exitCode = 1;
}
