/**
 * The dev studio at `/_kaygraph/`: a page, its scripts (the studio's own, the `kaygraph/client` runtime it is
 * built on, and the `mermaid` package), all served from the package (no CDN, strict CSP), and one JSON
 * endpoint describing the graphs. Runs, tasks, resumes and cancels go through the public API with the
 * caller's token, so the studio can do nothing the API would not let that caller do.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import express, { Router, type Response } from "express";
import { jsonSchemaOf, sortedGraphs } from "../../codegen/openapi.js";
import type { LoadedGraph } from "../../definition/registry.js";
import { routesOf } from "../../definition/routes.js";
import { toMermaid } from "../../graph/mermaid.js";
import { packageRoot } from "../../package-info.js";
import type { AppContext } from "../context.js";
import { methodNotAllowed } from "../middleware/errors.js";
import { helmetHeaders } from "../middleware/security-headers.js";

const require = createRequire(import.meta.url);

/** Where the studio lives. */
export const STUDIO_PATH = "/_kaygraph";

/**
 * Scripts only from this origin (no inline script, no eval); styles inline too, because Mermaid writes its
 * diagram styles into the SVG it renders; requests only to this origin.
 */
const STUDIO_HELMET = {
  crossOriginResourcePolicy: { policy: "same-origin" as const },
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", "data:"],
      fontSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kaygraph studio</title>
<link rel="stylesheet" href="${STUDIO_PATH}/assets/studio/studio.css">
<script src="${STUDIO_PATH}/assets/mermaid.min.js"></script>
<script type="module" src="${STUDIO_PATH}/assets/studio/app.js"></script>
</head>
<body>
<header><h1>kaygraph studio</h1><label>Token <input id="token" type="password" autocomplete="off" placeholder="Bearer token (with auth on)"></label><span id="reloaded"></span></header>
<main>
<nav id="graphs" aria-label="graphs"></nav>
<section id="graph" aria-live="polite"><p>Pick a graph.</p></section>
<section id="tasks"></section>
</main>
</body>
</html>
`;

/** What the studio shows of one graph version. */
export interface StudioGraph {
  name: string;
  version: number;
  description: string | null;
  deprecated: boolean;
  routes: Record<string, string>;
  input: unknown;
  output: unknown;
  resume: unknown;
  mermaid: string | null;
}

async function describe(graph: LoadedGraph): Promise<StudioGraph> {
  const def = graph.definition;
  let mermaid: string | null = null;
  try {
    const instance = typeof def.graph === "function" ? await (def.graph as () => unknown)() : def.graph;
    mermaid = toMermaid(instance as Parameters<typeof toMermaid>[0]);
  } catch {
    // A factory that needs its run context cannot be drawn ahead of a run; the studio shows no diagram.
    mermaid = null;
  }
  const resume = (def as { resume?: Parameters<typeof jsonSchemaOf>[0] }).resume;
  return {
    name: graph.name,
    version: graph.version,
    description: def.description ?? null,
    deprecated: Boolean((def as { deprecated?: unknown }).deprecated),
    routes: { ...routesOf(graph) },
    input: jsonSchemaOf(def.input, "input"),
    output: jsonSchemaOf(def.output, "output"),
    resume: resume ? jsonSchemaOf(resume, "input") : null,
    mermaid,
  };
}

/**
 * Mounts `/_kaygraph/` (the page), `/_kaygraph/assets/…` (scripts and styles) and `/_kaygraph/api/graphs`.
 *
 * @example
 * if (config.server.studio) studioRoutes(ctx, router);
 */
export function studioRoutes(ctx: AppContext, router: Router = Router()): Router {
  const headers = Object.entries(helmetHeaders(STUDIO_HELMET));
  const withHeaders = (_req: unknown, res: Response, next: () => void) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
  router
    .route(`${STUDIO_PATH}/`)
    .get(withHeaders, (_req, res) => {
      res.type("html").send(PAGE);
    })
    .all(methodNotAllowed(["GET"]));
  let described: Promise<StudioGraph[]> | undefined;
  router.get(`${STUDIO_PATH}/api/graphs`, async (_req, res) => {
    described ??= Promise.all(sortedGraphs(ctx.registry).map(describe));
    // `loaded_at` changes on every reload (a new process, or new graphs in this one): the page redraws then.
    res.json({ loaded_at: ctx.loadedAt, graphs: await described });
  });
  const statics = { index: false, maxAge: 0, fallthrough: true };
  router.get(`${STUDIO_PATH}/assets/mermaid.min.js`, withHeaders, (_req, res) => res.sendFile(require.resolve("mermaid/dist/mermaid.min.js")));
  router.use(`${STUDIO_PATH}/assets/client`, withHeaders, express.static(fileURLToPath(new URL("../../client/", import.meta.url)), statics));
  router.use(`${STUDIO_PATH}/assets/studio`, withHeaders, express.static(`${packageRoot}studio`, statics));
  return router;
}
