/** The HTTP layer of the kaygraph client: one fetch per call, errors as KaygraphApiError. */
import { errorOf, parseJson, unexpected } from "./errors.js";
import type { ClientOptions, RequestOptions } from "./types.js";

/** One request of a Transport: body (sent as JSON), Accept, extra headers and the call's options. */
export interface Call {
  body?: unknown;
  accept?: string;
  headers?: Record<string, string>;
  options: RequestOptions;
}

/**
 * Sends the API's requests: base URL, headers, bearer token, request id and signal; an answer that is not 2xx
 * becomes a KaygraphApiError.
 */
export class Transport {
  readonly reconnectAttempts: number;
  readonly reconnectDelayMs: number;
  private readonly base: string;
  private readonly options: ClientOptions;
  private readonly fetcher: (url: string, init: RequestInit) => Promise<Response>;

  constructor(options: ClientOptions) {
    this.options = options;
    this.base = options.baseUrl.replace(/\/+$/, "");
    this.fetcher = options.fetch ?? ((url, init) => fetch(url, init));
    this.reconnectAttempts = options.reconnect?.attempts ?? 5;
    this.reconnectDelayMs = options.reconnect?.delayMs ?? 250;
  }

  /** Sends a request; an answer that is not 2xx is thrown as a KaygraphApiError. */
  async send(method: string, path: string, call: Call): Promise<Response> {
    const headers: Record<string, string> = {};
    // Lower-cased, so that a caller's "Authorization" replaces the token's rather than being joined to it.
    for (const source of [{ accept: call.accept ?? "application/json" }, this.options.headers, call.options.headers, call.headers]) {
      for (const [key, value] of Object.entries(source ?? {})) headers[key.toLowerCase()] = value;
    }
    if (headers["authorization"] === undefined) {
      const token = typeof this.options.token === "function" ? await this.options.token() : this.options.token;
      if (token) headers["authorization"] = "Bearer " + token;
    }
    if (call.options.requestId !== undefined) headers["x-request-id"] = call.options.requestId;
    const init: RequestInit = { method, headers };
    if (call.body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(call.body);
    }
    if (call.options.signal) init.signal = call.options.signal;
    const response = await this.fetcher(this.base + path, init);
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  /** Sends a request and parses its JSON answer. */
  async json<T>(method: string, path: string, call: Call): Promise<T> {
    const response = await this.send(method, path, call);
    const text = await response.text();
    const parsed = parseJson(text);
    if (!parsed.ok) throw unexpected(response, "The answer is not JSON: " + text.slice(0, 200));
    return parsed.value as T;
  }
}
