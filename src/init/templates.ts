import path from "node:path";
import { Errors, KaygraphError } from "../errors.js";
import { packageRoot } from "../package-info.js";

/** One project template shipped in the package under `templates/<name>/`. */
export interface TemplateInfo {
  /** Directory name under `templates/`, the value of `--template`. */
  readonly name: string;
  /** One line, shown in the template picker. */
  readonly description: string;
  /** The graph the end screen suggests calling, its version and an input for it. */
  readonly main: { readonly graph: string; readonly version: number; readonly input: Readonly<Record<string, unknown>> };
}

/** Every template, in the order the picker shows them; the first is the default. */
export const TEMPLATES: readonly TemplateInfo[] = [
  {
    name: "basic",
    description: "one sync graph: text processing, a branch and a retrying node",
    main: { graph: "process", version: 1, input: { text: "Graphs that serve themselves" } },
  },
  {
    name: "background",
    description: "a long multi-step graph as a background task, typed client script",
    main: { graph: "report", version: 1, input: { topics: ["queues", "leases"] } },
  },
  {
    name: "streaming",
    description: "tokens over SSE and WebSocket, client scripts, a live HTML page",
    main: { graph: "chat", version: 1, input: { prompt: "Tell me about graphs" } },
  },
  {
    name: "production",
    description: "JWT auth, rate-limit tiers, API v1 + v2, optional Redis, Dockerfile",
    main: { graph: "process", version: 2, input: { text: "Ship it" } },
  },
  {
    name: "human-in-the-loop",
    description: "a graph that stops to ask a person, resumed over HTTP or the client",
    main: { graph: "approve", version: 1, input: { topic: "otters" } },
  },
];

/** The template used when none is chosen. */
export const DEFAULT_TEMPLATE = "basic";

/** Where the templates live: `templates/` beside `dist/` in the installed package (or the repo). */
export function templatesRoot(): string {
  return path.join(packageRoot, "templates");
}

/** The directory holding template `name`. */
export function templateDir(name: string, root: string = templatesRoot()): string {
  return path.join(root, name);
}

/**
 * Looks a template up by name.
 *
 * @example
 * findTemplate("streaming").main.graph; // "chat"
 * findTemplate("nope"); // throws KG_INIT_TEMPLATE_UNKNOWN listing the known templates
 */
export function findTemplate(name: string): TemplateInfo {
  const found = TEMPLATES.find((t) => t.name === name);
  if (found) return found;
  throw new KaygraphError(Errors.InitTemplateUnknown, {
    message: `There is no template "${name}".`,
    hint: `Choose one of: ${TEMPLATES.map((t) => t.name).join(", ")}.`,
  });
}
