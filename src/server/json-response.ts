/**
 * The hot routes' JSON answer: what Express's `res.status(s).json(…)` sends for a POST, without its per-response
 * content-type and charset look-ups.
 */
import type { ServerResponse } from "node:http";

/** Answers `status` with `text` (JSON already serialised) as `application/json; charset=utf-8`. */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}
