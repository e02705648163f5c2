/** Where a bearer token travels: the Authorization header (RFC 6750) and the WebSocket upgrade forms. */

/** Header values as Node's `IncomingHttpHeaders` holds them. */
export type HeaderValue = string | string[] | undefined;

/** A token found in a WebSocket upgrade request, and where. */
export interface UpgradeToken {
  token: string;
  source: "authorization" | "protocol" | "query";
  /**
   * The subprotocol the server must select in its handshake answer (`bearer`) when the token came in
   * `Sec-WebSocket-Protocol`; browsers drop a connection whose answer selects none of the offered ones.
   */
  protocol?: "bearer";
}

const BEARER = /^Bearer +(\S+) *$/i;

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The token of an `Authorization: Bearer <token>` header value, or `undefined` when there is none
 * (no header, another scheme, or an empty token). The scheme is case-insensitive.
 *
 * @example
 * bearerFrom("Bearer eyJhbGciOi...") // "eyJhbGciOi..."
 * bearerFrom("Basic dXNlcjpwYXNz")    // undefined
 */
export function bearerFrom(headerValue: HeaderValue): string | undefined {
  const value = first(headerValue);
  if (typeof value !== "string") return undefined;
  return BEARER.exec(value.trim())?.[1];
}

/**
 * The token of a `Sec-WebSocket-Protocol: bearer, <token>` offer (the form browsers can send, since
 * their WebSocket API cannot set headers), or `undefined`.
 *
 * @example
 * new WebSocket(url, ["bearer", token]); // sends "Sec-WebSocket-Protocol: bearer, <token>"
 * bearerFromProtocols("bearer, eyJ...") // "eyJ..."
 */
export function bearerFromProtocols(headerValue: HeaderValue): string | undefined {
  const value = first(headerValue);
  if (typeof value !== "string") return undefined;
  const offered = value.split(",").map((p) => p.trim());
  const at = offered.findIndex((p) => p.toLowerCase() === "bearer");
  const token = at === -1 ? undefined : offered[at + 1];
  return token ? token : undefined;
}

/**
 * The bearer token of a WebSocket upgrade request, trying in order the `Authorization` header,
 * `Sec-WebSocket-Protocol: bearer, <token>` and the `?token=` query parameter. Tokens in URLs end up in
 * access logs: redact the `token` parameter wherever URLs are logged.
 *
 * @example
 * server.on("upgrade", async (req, socket, head) => {
 *   const found = tokenFromUpgrade(req);
 *   const identity = await verifier.verify(found?.token); // AuthError("missing") when undefined
 * });
 */
export function tokenFromUpgrade(req: { headers: Record<string, HeaderValue>; url?: string | undefined }): UpgradeToken | undefined {
  const fromHeader = bearerFrom(req.headers.authorization);
  if (fromHeader) return { token: fromHeader, source: "authorization" };
  const fromProtocol = bearerFromProtocols(req.headers["sec-websocket-protocol"]);
  if (fromProtocol) return { token: fromProtocol, source: "protocol", protocol: "bearer" };
  if (req.url) {
    const fromQuery = new URL(req.url, "http://localhost").searchParams.get("token");
    if (fromQuery) return { token: fromQuery, source: "query" };
  }
  return undefined;
}
