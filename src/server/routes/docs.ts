import express, { Router } from "express";
import { createRequire } from "node:module";
import { buildOpenApi } from "../../codegen/openapi.js";
import type { AppContext } from "../context.js";
import { methodNotAllowed } from "../middleware/errors.js";
import { PAGE_HELMET, helmetHeaders } from "../middleware/security-headers.js";

const require = createRequire(import.meta.url);

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kaygraph API docs</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// A separate script file (not inline) so the page works under helmet's Content-Security-Policy.
const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs", deepLinking: true, tryItOutEnabled: true, persistAuthorization: true, validatorUrl: null });\n`;

/**
 * `/openapi.json` (OpenAPI 3.1 from the zod schemas) and `/docs`, an interactive page (Swagger UI) served
 * from the package's own files: no CDN, so it works with no network.
 */
export function docsRoutes(ctx: AppContext, router: Router = Router()): Router {
  const document = JSON.stringify(buildOpenApi(ctx.registry, ctx.config));
  router
    .route("/openapi.json")
    .get((_req, res) => {
      res.type("application/json").send(document);
    })
    .all(methodNotAllowed(["GET"]));
  const pageHeaders = Object.entries(helmetHeaders(PAGE_HELMET));
  const withPageHeaders = (_req: unknown, res: import("express").Response, next: () => void) => {
    for (const [name, value] of pageHeaders) res.setHeader(name, value);
    next();
  };
  router
    .route("/docs")
    .get(withPageHeaders, (_req, res) => {
      res.type("html").send(PAGE);
    })
    .all(methodNotAllowed(["GET"]));
  router.get("/docs/init.js", withPageHeaders, (_req, res) => {
    res.type("application/javascript").send(INIT);
  });
  // The package's absolute-path helper, not its index (which loads the whole 1 MB bundle into the server).
  const assets = (require("swagger-ui-dist/absolute-path.js") as () => string)();
  router.use("/docs/assets", withPageHeaders, express.static(assets, { index: false, maxAge: "1h", fallthrough: true }));
  return router;
}
