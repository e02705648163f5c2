import express, { type Router } from "express";
import type { AppContext } from "../context.js";
import { PAGE_HELMET, helmetHeaders } from "../middleware/security-headers.js";

/**
 * The project's static folder (`server.static`) at `/`, for GET and HEAD requests no API route answered:
 * mounted after every route, so a file can never shadow the API. Files get the page security headers;
 * dotfiles are never served.
 */
export function staticRoutes(ctx: AppContext, router: Router): Router {
  const dir = ctx.config.server.static;
  if (dir === undefined) return router;
  const headers = Object.entries(helmetHeaders(PAGE_HELMET));
  router.use(
    express.static(dir, {
      index: "index.html",
      dotfiles: "ignore",
      redirect: false,
      fallthrough: true,
      setHeaders: (res) => {
        for (const [name, value] of headers) res.setHeader(name, value);
      },
    }),
  );
  return router;
}
