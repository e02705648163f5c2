import { DefinitionRunError } from "kaygraph";
import { describe, expect, it } from "vitest";
// Typed in-process handlers, written by `kaygraph generate` (npm test runs it first).
import { handlers, type ApproveV1Resume } from "../.kaygraph/generated/routes.js";
import type { ReviewQuestion } from "../graphs/approve.js";

const approve = handlers.approve.v1;

/** Runs until the next interrupt; returns the error carrying the question and where to resume. */
async function untilInterrupt(run: Promise<unknown>): Promise<DefinitionRunError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof DefinitionRunError) || error.code !== "INTERRUPTED" || !error.interrupt) throw new Error(`expected an interrupt, got ${String(error)}`);
  return error;
}

/** Resumes an interrupted run with `answer` (what POST /tasks/{id}/resume does in the server). */
function resume(stop: DefinitionRunError, answer: ApproveV1Resume) {
  const checkpoint = stop.interrupt!.checkpoint;
  return approve({ topic: "unused on resume" }, { from: checkpoint, resume: [...checkpoint.resume, answer] });
}

describe("approve", () => {
  it("stops at review with the draft, and publishes it once approved", async () => {
    const stop = await untilInterrupt(approve({ topic: "otters" }));
    expect(stop.interrupt).toMatchObject({ node: "Review", value: { question: "Publish this draft?", draft: "A short post about otters.", revision: 0 } satisfies ReviewQuestion });
    expect(await resume(stop, { approved: true })).toEqual({ published: true, text: "A short post about otters.", revisions: 0, feedback: [] });
  });

  it("feedback makes another draft and asks again", async () => {
    const first = await untilInterrupt(approve({ topic: "otters" }));
    const second = await untilInterrupt(resume(first, { approved: false, feedback: "mention rivers" }));
    expect(second.interrupt?.value).toEqual({ question: "Publish this draft?", draft: "A short post about otters. Revised: mention rivers.", revision: 1 });
    const out = await resume(second, { approved: true });
    expect(out).toMatchObject({ published: true, revisions: 1, feedback: ["mention rivers"] });
  });

  it("gives up after maxRevisions without publishing", async () => {
    const first = await untilInterrupt(approve({ topic: "otters", maxRevisions: 0 }));
    expect(await resume(first, { approved: false, feedback: "no" })).toEqual({ published: false, text: "A short post about otters.", revisions: 0, feedback: ["no"] });
  });

  it("refuses a resume value that does not match the resume schema", async () => {
    const stop = await untilInterrupt(approve({ topic: "otters" }));
    const checkpoint = stop.interrupt!.checkpoint;
    await expect(approve({ topic: "otters" }, { from: checkpoint, resume: [{ approved: "yes" }] })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });

  it("rejects an empty topic", async () => {
    await expect(approve({ topic: " " })).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
  });
});
