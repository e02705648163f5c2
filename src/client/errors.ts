/** How answers that are not what the client expected become KaygraphApiErrors. */
import { KaygraphApiError } from "./types.js";

/** JSON.parse without throwing: the caller turns `{ ok: false }` into an error that quotes the text. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    // Not JSON: the caller turns this into an UNEXPECTED_RESPONSE error that quotes the text.
    return { ok: false };
  }
}

function requestIdOf(response: Response): string | undefined {
  return response.headers.get("x-request-id") ?? undefined;
}

/** An UNEXPECTED_RESPONSE error: the answer is not the API's JSON or event stream. */
export function unexpected(response: Response, message: string): KaygraphApiError {
  return new KaygraphApiError({ status: response.status, error_code: "UNEXPECTED_RESPONSE", message, request_id: requestIdOf(response) });
}

/** A STREAM_INTERRUPTED error: the event stream ended before its final event. */
export function interrupted(response: Response): KaygraphApiError {
  return new KaygraphApiError({ status: response.status, error_code: "STREAM_INTERRUPTED", message: "The event stream ended before its final event.", request_id: requestIdOf(response) });
}

/** The KaygraphApiError of an answer that is not 2xx: the API's error body, or UNEXPECTED_RESPONSE. */
export async function errorOf(response: Response): Promise<KaygraphApiError> {
  const text = await response.text();
  const parsed = parseJson(text);
  const retryAfter = Number(response.headers.get("retry-after") ?? Number.NaN);
  const body = parsed.ok && typeof parsed.value === "object" && parsed.value !== null ? (parsed.value as Record<string, unknown>) : undefined;
  if (body === undefined || typeof body["error_code"] !== "string") {
    return unexpected(response, "HTTP " + response.status + " " + response.statusText + ": " + text.slice(0, 200));
  }
  return new KaygraphApiError({
    status: response.status,
    error_code: body["error_code"],
    message: typeof body["error"] === "string" ? body["error"] : "HTTP " + response.status,
    request_id: typeof body["request_id"] === "string" ? body["request_id"] : requestIdOf(response),
    details: body["details"],
    retry_after: Number.isFinite(retryAfter) ? retryAfter : undefined,
  });
}
