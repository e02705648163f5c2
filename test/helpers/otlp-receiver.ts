/**
 * A small OTLP/HTTP trace receiver for e2e tests: it accepts POST /v1/traces, keeps every body, and decodes
 * the JSON encoding (http/json) into flat spans. Protobuf bodies are kept raw.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { onTestFinished } from "vitest";

/** A span as the tests look at it. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
  service: unknown;
}

/** One POST the receiver got. */
export interface ReceivedPost {
  contentType: string;
  body: Buffer;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

function valueOf(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue;
}

const attributesOf = (list: KeyValue[] = []) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** Starts a receiver on port 0; closed when the test ends. */
export async function startOtlpReceiver() {
  const posts: ReceivedPost[] = [];
  const spans: ReceivedSpan[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const contentType = req.headers["content-type"] ?? "";
    posts.push({ contentType, body });
    if (req.url === "/v1/traces" && contentType.includes("json")) {
      const doc = JSON.parse(body.toString("utf8")) as { resourceSpans: Array<{ resource: { attributes: KeyValue[] }; scopeSpans: Array<{ spans: Array<Record<string, unknown>> }> }> };
      for (const rs of doc.resourceSpans) {
        const service = attributesOf(rs.resource.attributes)["service.name"];
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              traceId: String(s["traceId"]),
              spanId: String(s["spanId"]),
              parentSpanId: String(s["parentSpanId"] ?? ""),
              name: String(s["name"]),
              kind: Number(s["kind"]),
              attributes: attributesOf(s["attributes"] as KeyValue[]),
              status: (s["status"] ?? {}) as ReceivedSpan["status"],
              service,
            });
          }
        }
      }
    }
    res.writeHead(200, { "content-type": contentType.includes("json") ? "application/json" : "application/x-protobuf" });
    res.end(contentType.includes("json") ? "{}" : "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    posts,
    spans,
    /** Polls until `predicate` holds on the spans of `traceId` (or fails after `timeoutMs` showing them). */
    async waitForTrace(traceId: string, predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs = 20_000): Promise<ReceivedSpan[]> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = spans.filter((s) => s.traceId === traceId);
        if (predicate(found)) return found;
        if (Date.now() > deadline) throw new Error(`trace ${traceId} incomplete after ${timeoutMs} ms: ${JSON.stringify(found.map((s) => [s.name, s.attributes]))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
