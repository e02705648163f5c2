/**
 * Submits a post as a background task with the generated typed client, and plays the reviewer: every time
 * the run stops at `review`, it shows the draft, asks you, and resumes the task with your answer.
 *
 *   npm run dev                      # in one terminal
 *   npm run review -- "sea otters"   # in another
 *
 * KAYGRAPH_URL picks the server (default http://127.0.0.1:3000); KAYGRAPH_TOKEN is sent as a bearer token
 * when set (servers started with --auth jwt).
 */
import { stdin, stdout } from "node:process";
import { createInterface } from "node:readline/promises";
import { createClient, KaygraphApiError, type ApproveV1Output, type ApproveV1Resume, type Task } from "../.kaygraph/generated/client.js";
import type { ReviewQuestion } from "../graphs/approve.js";

const client = createClient({
  baseUrl: process.env["KAYGRAPH_URL"] ?? "http://127.0.0.1:3000",
  token: process.env["KAYGRAPH_TOKEN"],
});

// One reader for the whole session; its line iterator also keeps answers piped in ahead of the questions.
const terminal = createInterface({ input: stdin, output: stdout });
const lines = terminal[Symbol.asyncIterator]();

/** Asks on the terminal: "y" approves, anything else is feedback for another draft. */
async function ask(question: ReviewQuestion): Promise<ApproveV1Resume> {
  console.log(`\n${question.question} (draft ${question.revision + 1})\n  ${question.draft}`);
  stdout.write("y to publish, or feedback for another draft: ");
  const line = await lines.next();
  if (line.done) throw new Error("No answer (the input ended); the task keeps waiting for one.");
  const answer = String(line.value).trim();
  return answer.toLowerCase() === "y" ? { approved: true } : { approved: false, feedback: answer };
}

/** Follows the task until it ends, answering each interrupt; resolves with the final task. */
async function review(topic: string): Promise<Task<ApproveV1Output>> {
  const accepted = await client.approve.v1.submit({ topic });
  console.error(`task ${accepted.task_id} accepted`);
  let seen = 0;
  for (;;) {
    // The task's events end at its final event, or at an interrupt: the task then waits for resume().
    for await (const event of client.subscribe<ApproveV1Output>(accepted.task_id, { after: seen })) seen = event.seq;
    const task = await client.approve.v1.task(accepted.task_id);
    if (task.status !== "interrupted") return task;
    // resume() takes exactly what the graph's `resume` schema accepts (a wrong shape does not compile).
    await client.approve.v1.resume(task.id, await ask(task.interrupt?.value as ReviewQuestion));
  }
}

try {
  const task = await review(process.argv.slice(2).join(" ") || "sea otters");
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
} finally {
  terminal.close();
}
