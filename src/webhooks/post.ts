/**
 * One webhook POST over node:http(s) with keep-alive agents. Not `fetch`: it refuses ports the Fetch spec
 * calls "bad" (a receiver on 6000 or 10080 would never get a message), and node:http with a kept-alive agent
 * sends several times more messages per second.
 */
import http from "node:http";
import https from "node:https";

/** The answer's status, or why there was none. */
export type PostResult = { status: number } | { error: string };

/** Keep-alive agents for one deliverer. */
export interface PostAgents {
  http: http.Agent;
  https: https.Agent;
  destroy(): void;
}

/** Creates keep-alive agents with up to `maxSockets` connections per receiver. */
export function createPostAgents(maxSockets: number): PostAgents {
  const options = { keepAlive: true, maxSockets, timeout: 60_000 };
  const agents = { http: new http.Agent(options), https: new https.Agent(options) };
  return { ...agents, destroy: () => (agents.http.destroy(), agents.https.destroy()) };
}

/**
 * POSTs `body` to `url` and reads the answer to its end (the body is discarded); the whole exchange is bounded
 * by `timeoutMs`. Redirects are not followed.
 *
 * @example
 * const result = await postWebhook(agents, "https://example.com/hooks", headers, body, 10_000);
 */
export function postWebhook(agents: PostAgents, url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ error: "invalid URL" });
      return;
    }
    const secure = target.protocol === "https:";
    const payload = Buffer.from(body);
    let settled = false;
    const finish = (result: PostResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = (secure ? https : http).request(target, { method: "POST", agent: secure ? agents.https : agents.http, headers: { ...headers, "content-length": String(payload.length) } }, (response) => {
      response.resume();
      response.on("end", () => finish({ status: response.statusCode ?? 0 }));
      response.on("error", (error) => finish({ error: error.message }));
    });
    const timer = setTimeout(() => {
      finish({ error: `no answer within ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    request.on("error", (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
    request.end(payload);
  });
}
