/**
 * Query parameters that carry secrets, and how URLs are written to logs without them. The HTTP request log
 * and the WebSocket upgrade log both use {@link redactUrl}, so one list decides what never reaches a log.
 */

/**
 * Query parameter names (lower case, `-` written `_`) whose values are redacted in logs. A name is matched
 * after percent-decoding, exactly as a server reads it (`tok%65n` is `token`), and case-insensitively.
 */
export const SECRET_QUERY_KEYS: ReadonlySet<string> = new Set([
  "token",
  "access_token",
  "id_token",
  "refresh_token",
  "auth",
  "authorization",
  "jwt",
  "bearer",
  "api_key",
  "apikey",
  "x_api_key",
  "key",
  "secret",
  "client_secret",
  "password",
  "passwd",
  "pwd",
  "session",
  "session_id",
  "sessionid",
  "signature",
  "sig",
]);

const REDACTED = "[redacted]";

/**
 * Is `rawName` (a query parameter name as it appears in a URL, still encoded) one of the secret keys? The
 * name is decoded the way `URLSearchParams` decodes it (`+` is a space, malformed `%` sequences stay as they
 * are), so no spelling reaches a reader without also reaching this check.
 *
 * @example
 * isSecretQueryName("tok%65n") // true
 * isSecretQueryName("Access-Token") // true
 */
export function isSecretQueryName(rawName: string): boolean {
  const decoded = new URLSearchParams(`${rawName}=`).keys().next().value ?? "";
  return SECRET_QUERY_KEYS.has(decoded.trim().toLowerCase().replaceAll("-", "_"));
}

/**
 * `url` with the value of every secret query parameter replaced by `[redacted]`; everything else is kept
 * byte for byte (the path, other parameters, their order).
 *
 * @example
 * redactUrl("/ws/c1?tok%65n=abc&x=1") // "/ws/c1?tok%65n=[redacted]&x=1"
 */
export function redactUrl(url: string): string {
  const at = url.indexOf("?");
  if (at === -1) return url;
  const parts = url.slice(at + 1).split("&");
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const eq = part.indexOf("=");
    const name = eq === -1 ? part : part.slice(0, eq);
    if (name !== "" && isSecretQueryName(name)) {
      parts[i] = `${name}=${REDACTED}`;
      changed = true;
    }
  }
  return changed ? `${url.slice(0, at + 1)}${parts.join("&")}` : url;
}
