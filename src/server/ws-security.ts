import type { IncomingMessage } from "node:http";
import proxyAddr from "proxy-addr";
import type { ResolvedConfig } from "../config/schema.js";
import type { Identity } from "../definition/define.js";
import { AuthError } from "../security/jwt/auth-error.js";
import { tokenFromUpgrade } from "../security/jwt/bearer.js";
import type { Guard } from "./guard.js";
import { countFailedAuth } from "./middleware/auth.js";
import { enforceLimit, type GraphLimit } from "./middleware/rate-limit.js";
import type { WebSocketHooks } from "./ws/index.js";

/**
 * The WebSocket side of auth and rate limits, as hooks for the WebSocket server: the token is checked at the
 * upgrade (from `Authorization`, `Sec-WebSocket-Protocol: bearer, <token>`, or `?token=`; a bad one gets
 * HTTP 401 before any handshake), the connection counts against the caller's limit like a request, and so
 * does every `run` and `subscribe` message (a graph's own `rateLimit` applies to its runs).
 *
 * The caller's address is the one Express gives `req.ip`: proxy-addr with `trust`, the app's compiled
 * `trust proxy` function, so `X-Forwarded-For` is believed exactly as far as it is over HTTP.
 *
 * @example
 * attachWebSockets(server, app.locals.kaygraph, webSocketSecurity(config, guard, app.get("trust proxy fn")));
 */
export function webSocketSecurity(config: ResolvedConfig, guard: Pick<Guard, "verifier" | "limiter">, trust: ProxyTrust): WebSocketHooks {
  const { verifier, limiter } = guard;
  const settings = config.rateLimit;

  const count = async (identity: Identity | undefined, ip: string, graph?: GraphLimit): Promise<boolean> => {
    if (limiter) await enforceLimit(limiter, settings, { ip, identity }, graph);
    return true;
  };

  // What Express's `req.ip` does; an empty string (no socket address) keys as an unknown client.
  const clientIp = (req: IncomingMessage): string => proxyAddr(req, trust) ?? "";

  return {
    clientIp,
    async authenticate(req) {
      const ip = clientIp(req);
      let identity: Identity | undefined;
      if (verifier) {
        try {
          const verified = await verifier.verify(tokenFromUpgrade({ headers: req.headers, url: req.url })?.token);
          identity = { sub: verified.sub, tier: verified.tier, claims: verified.claims as Record<string, unknown> };
        } catch (error) {
          if (!AuthError.is(error)) throw error;
          // A failed attempt counts against the address, as over HTTP (past the limit: 429, not 401).
          if (limiter) await countFailedAuth(limiter, ip, settings.anonymous);
          throw error;
        }
      }
      await count(identity, ip);
      return identity;
    },
    async onMessageLimit(identity, ip, message) {
      if (message.type === "run") {
        const spec = message.graph.definition.rateLimit;
        return count(identity, ip, spec ? { name: message.graph.name, version: message.graph.version, spec } : undefined);
      }
      return count(identity, ip);
    },
  };
}

/** A compiled `trust proxy` setting: is the address `addr`, `i` hops from the socket, a trusted proxy? */
export type ProxyTrust = (addr: string, i: number) => boolean;
