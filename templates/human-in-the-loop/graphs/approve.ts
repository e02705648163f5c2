import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

/**
 * Drafts a post and waits for a person to approve it, or to send feedback for another draft:
 *
 *   draft ─▶ review ──"publish"──▶ publish
 *     ▲        │
 *     └─"revise"┘
 *
 * `review` calls `this.interrupt(...)`: the run stops there and the task becomes `interrupted`, with the
 * question and the draft in `interrupt.value`. `POST /tasks/{id}/resume {"value": {"approved": true}}` (checked
 * by the `resume` schema below) runs `review` again from `prep`, and that same `this.interrupt(...)` call
 * returns the value. `draft` and the nodes before the interrupt do not run again; the task survives restarts
 * of the server while it waits.
 */

const input = z.object({
  topic: z.string().trim().min(1).max(200).describe("What the post is about"),
  maxRevisions: z.number().int().min(0).max(10).default(3).describe("Drafts after the first one before giving up"),
});

const output = z.object({
  published: z.boolean(),
  text: z.string(),
  revisions: z.number().int(),
  feedback: z.array(z.string()),
});

/** What a reviewer answers: approve, or send feedback for another draft. */
const resume = z.object({
  approved: z.boolean(),
  feedback: z.string().trim().max(500).optional(),
});

type Input = z.output<typeof input>;
type Output = z.output<typeof output>;
export type ReviewAnswer = z.output<typeof resume>;

/** What the reviewer is asked (the interrupt's value, shown in `interrupt.value` of the task). */
export interface ReviewQuestion {
  question: string;
  draft: string;
  revision: number;
}

interface Shared {
  input: Input;
  draft?: string;
  revisions: number;
  feedback: string[];
  output?: Output;
}

/** Writes a draft (an LLM call in a real graph); a revision takes every piece of feedback into account. */
class Draft extends Node<Shared, { topic: string; feedback: string[] }, string> {
  override prep(shared: Shared) {
    return { topic: shared.input.topic, feedback: shared.feedback };
  }
  override exec({ topic, feedback }: { topic: string; feedback: string[] }) {
    const base = `A short post about ${topic}.`;
    return feedback.length === 0 ? base : `${base} Revised: ${feedback.join("; ")}.`;
  }
  override post(shared: Shared, _prep: unknown, draft: string) {
    shared.draft = draft;
  }
}

/** Stops the run until a person answers (POST /tasks/{id}/resume, or the prompt of `kaygraph run`). */
class Review extends Node<Shared> {
  override post(shared: Shared) {
    const answer = this.interrupt<ReviewAnswer>({ question: "Publish this draft?", draft: shared.draft ?? "", revision: shared.revisions } satisfies ReviewQuestion);
    if (answer.approved) return "publish";
    if (answer.feedback) shared.feedback.push(answer.feedback);
    if (shared.revisions >= shared.input.maxRevisions) return "give-up";
    shared.revisions += 1;
    return "revise";
  }
}

class Publish extends Node<Shared> {
  override post(shared: Shared) {
    shared.output = { published: true, text: shared.draft ?? "", revisions: shared.revisions, feedback: shared.feedback };
  }
}

class GiveUp extends Node<Shared> {
  override post(shared: Shared) {
    shared.output = { published: false, text: shared.draft ?? "", revisions: shared.revisions, feedback: shared.feedback };
  }
}

export default defineGraph({
  name: "approve",
  description: "Drafts a post and waits for a person to approve it (or send feedback for another draft)",
  input,
  output,
  resume,
  shared: (input): Shared => ({ input, revisions: 0, feedback: [] }),
  graph: () => {
    const draft = new Draft();
    const review = draft.next(new Review());
    review.on("publish", new Publish());
    review.on("revise", draft);
    review.on("give-up", new GiveUp());
    return new Graph(draft);
  },
  examples: [{ name: "a post about otters", input: { topic: "otters" } }],
});
