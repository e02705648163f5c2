import { Graph, Node, defineGraph } from "kaygraph";
import { z } from "zod";

interface Shared {
  input: { topic: string };
  draft?: string;
  revisions: number;
  review?: { approved: boolean; feedback: string };
  output?: { published: boolean; text: string; revisions: number };
}

/** Writes a draft (an LLM call in a real graph); a revision takes the reviewer's feedback into account. */
class Draft extends Node<Shared> {
  prep(shared: Shared) {
    return { topic: shared.input.topic, feedback: shared.review?.feedback ?? "" };
  }
  exec({ topic, feedback }: { topic: string; feedback: string }) {
    return feedback ? `A short post about ${topic}, revised: ${feedback}.` : `A short post about ${topic}.`;
  }
  post(shared: Shared, _prep: unknown, draft: string) {
    shared.draft = draft;
  }
}

/** Stops the run until a person approves or sends feedback (POST /tasks/{id}/resume, or a prompt in `kaygraph run`). */
class Review extends Node<Shared> {
  post(shared: Shared) {
    const review = this.interrupt<{ approved: boolean; feedback?: string }>({ question: "Publish this draft?", draft: shared.draft });
    shared.review = { approved: review.approved, feedback: review.feedback ?? "" };
    if (review.approved) return "publish";
    shared.revisions += 1;
    return "revise";
  }
}

class Publish extends Node<Shared> {
  post(shared: Shared) {
    shared.output = { published: true, text: shared.draft ?? "", revisions: shared.revisions };
  }
}

export default defineGraph({
  description: "Drafts a post and waits for a person to approve it (or send feedback for another draft)",
  input: z.object({ topic: z.string().min(1) }),
  output: z.object({ published: z.boolean(), text: z.string(), revisions: z.number() }),
  resume: z.object({ approved: z.boolean(), feedback: z.string().optional() }),
  shared: (input) => ({ input, revisions: 0 }),
  graph: () => {
    const draft = new Draft();
    const review = draft.next(new Review());
    review.on("publish", new Publish()).on("revise", draft);
    return new Graph(draft);
  },
});
