import { randomUUID } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

/** A caller's X-Request-ID is kept when it is 1–128 chars of `[A-Za-z0-9._:-]`. */
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of a request (set by {@link requestId}). */
export function requestIdOf(req: Request): string {
  return (req as Request & { id?: string }).id ?? "unknown";
}

/** Picks the request id (the caller's if valid, else a new UUID) and echoes it in `X-Request-ID`. */
export function requestId() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.get("x-request-id");
    const id = given !== undefined && VALID_ID.test(given) ? given : randomUUID();
    (req as Request & { id?: string }).id = id;
    res.setHeader("X-Request-ID", id);
    next();
  };
}
