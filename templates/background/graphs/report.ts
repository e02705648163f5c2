import { BatchNode, Graph, Node, abortableSleep, defineGraph } from "kaygraph";
import { z } from "zod";

/**
 * A long-running report, meant to run as a background task:
 *
 *   POST /api/v1/report/async  → 202 { task_id, check_url }
 *   GET  /tasks/{task_id}      → { status: pending | running | completed | failed | cancelled, result, … }
 *   GET  /tasks/{task_id}/events → the progress below, live (SSE)
 *
 *   plan ─▶ research (one step per topic) ─▶ write
 *
 * Every step reports progress with `this.emit(...)` and stops early when the task is cancelled or times
 * out (`this.signal`). `stepMs` stands in for real work: a crawl, a model call, a big query.
 */

const input = z.object({
  topics: z.array(z.string().trim().min(1).max(80)).min(1).max(20).describe("What the report covers"),
  stepMs: z.number().int().min(0).max(60_000).default(1_500).describe("Simulated work per step, in ms"),
});

const section = z.object({ topic: z.string(), findings: z.array(z.string()) });

const output = z.object({
  title: z.string(),
  sections: z.array(section),
  summary: z.string(),
  steps: z.number().int(),
});

type Input = z.output<typeof input>;
type Section = z.output<typeof section>;
type Report = z.output<typeof output>;

/** Progress chunks: what `this.emit` sends, and what task subscribers see as `data` events. */
export interface Progress {
  stage: "plan" | "research" | "write";
  done: number;
  total: number;
  message: string;
}

interface Shared {
  input: Input;
  plan?: string[];
  sections?: Section[];
  output?: Report;
}

/** Decides the report's sections. */
class Plan extends Node<Shared, Input, string[]> {
  override prep(shared: Shared) {
    return shared.input;
  }
  override async exec({ topics, stepMs }: Input) {
    await abortableSleep(stepMs, this.signal);
    const plan = [...new Set(topics.map((t) => t.toLowerCase()))];
    this.emit({ stage: "plan", done: 1, total: 1, message: `planned ${plan.length} sections` } satisfies Progress);
    return plan;
  }
  override post(shared: Shared, _input: Input, plan: string[]) {
    shared.plan = plan;
  }
}

interface ResearchItem {
  topic: string;
  index: number;
  total: number;
  stepMs: number;
}

/** One step per topic (a BatchNode runs `exec` once per item, in order, each with its own retries). */
class Research extends BatchNode<Shared> {
  constructor() {
    super({ maxRetries: 2, wait: 1 });
  }
  override prep(shared: Shared): ResearchItem[] {
    const plan = shared.plan ?? [];
    return plan.map((topic, index) => ({ topic, index, total: plan.length, stepMs: shared.input.stepMs }));
  }
  override async exec(item: ResearchItem): Promise<Section> {
    await abortableSleep(item.stepMs, this.signal);
    const findings = [`${item.topic} matters to ${item.total} part(s) of this report`, `${item.topic} has ${item.topic.length} letters`];
    this.emit({ stage: "research", done: item.index + 1, total: item.total, message: `researched ${item.topic}` } satisfies Progress);
    return { topic: item.topic, findings };
  }
  override post(shared: Shared, _items: ResearchItem[], sections: Section[]) {
    shared.sections = sections;
  }
}

/** Puts the report together. */
class Write extends Node<Shared, { sections: Section[]; stepMs: number }, Report> {
  override prep(shared: Shared) {
    return { sections: shared.sections ?? [], stepMs: shared.input.stepMs };
  }
  override async exec({ sections, stepMs }: { sections: Section[]; stepMs: number }): Promise<Report> {
    await abortableSleep(stepMs, this.signal);
    this.emit({ stage: "write", done: 1, total: 1, message: "report written" } satisfies Progress);
    return {
      title: `Report on ${sections.map((s) => s.topic).join(", ")}`,
      sections,
      summary: `${sections.length} section(s), ${sections.reduce((n, s) => n + s.findings.length, 0)} finding(s).`,
      steps: sections.length + 2,
    };
  }
  override post(shared: Shared, _prep: unknown, report: Report) {
    shared.output = report;
  }
}

export default defineGraph({
  name: "report",
  description: "Writes a report in several slow steps; submit it to /async and follow /tasks/{id}",
  input,
  output,
  graph: () => {
    const plan = new Plan();
    plan.next(new Research()).next(new Write());
    return new Graph(plan);
  },
  // Background tasks: a failed run is tried again (3 attempts in all, 2 s apart); each attempt may take 10 min.
  retry: { attempts: 3, backoff: 2_000 },
  taskTimeoutMs: 10 * 60_000,
  // A sync call (POST /api/v1/report) may take this long before it is aborted with 504.
  timeoutMs: 60_000,
  examples: [{ name: "two topics", input: { topics: ["queues", "leases"], stepMs: 500 } }],
});
