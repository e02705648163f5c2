import { randomUUID } from "node:crypto";
import type { Request } from "express";

/** A caller's X-Request-ID is kept when it is 1–128 chars of `[A-Za-z0-9._:-]`. */
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's id when valid, else a new UUID. */
export function pickRequestId(given: string | undefined): string {
  return given !== undefined && VALID_ID.test(given) ? given : randomUUID();
}

/** The request id of a request (set by the request-context middleware). */
export function requestIdOf(req: Request): string {
  return (req as Request & { id?: string }).id ?? "unknown";
}
