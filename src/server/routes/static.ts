import { realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { NextFunction, Request, Response, Router } from "express";
import type { AppContext } from "../context.js";
import { PAGE_HELMET, helmetHeaders } from "../middleware/security-headers.js";

/**
 * The project's static folder (`server.static`) at `/`, for GET and HEAD requests no API route answered:
 * mounted after every route, so a file can never shadow the API. Files get the page security headers;
 * dotfiles are never served, and neither is any file whose real path (symlinks resolved) is outside the folder.
 */
export function staticRoutes(ctx: AppContext, router: Router): Router {
  const dir = ctx.config.server.static;
  if (dir === undefined) return router;
  const headers = helmetHeaders(PAGE_HELMET);
  router.use(async (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    const file = await resolveStaticFile(dir, req.path);
    if (file === undefined) return next();
    // The checked real path is what is sent: a symlink swapped after the check is not followed again.
    res.sendFile(file, { headers, dotfiles: "allow" }, (error?: Error & { status?: number; code?: string }) => {
      if (error === undefined || res.headersSent || error.code === "ECONNABORTED") return;
      next(error.status === 404 ? undefined : error);
    });
  });
  return router;
}

/**
 * The real path of the file `urlPath` names under `root` (a folder's `index.html` for a folder), or
 * `undefined` when nothing may be served: malformed encoding, a NUL byte, a segment starting with `.` (dotfiles
 * and `..`) in the URL or in the resolved path, a missing file, or a real path outside the real `root`
 * (a symlink pointing out of the folder).
 *
 * @example
 * await resolveStaticFile("/srv/public", "/app.js") // "/srv/public/app.js"
 * await resolveStaticFile("/srv/public", "/passwd") // undefined when passwd -> /etc/passwd
 */
export async function resolveStaticFile(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes("\0")) return undefined;
  const segments = decoded.split(/[/\\]/).filter((s) => s !== "");
  if (segments.some((s) => s.startsWith("."))) return undefined;
  try {
    const realRoot = await realpath(root);
    let real = await realpath(path.join(realRoot, ...segments));
    if ((await stat(real)).isDirectory()) real = await realpath(path.join(real, "index.html"));
    const relative = path.relative(realRoot, real);
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return undefined;
    if (relative.split(path.sep).some((s) => s.startsWith("."))) return undefined;
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    // A missing file, a broken link or an unreadable folder: nothing to serve here (the request falls through to 404).
    return undefined;
  }
}
