import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineGraph, Graph, KaygraphError, resolveConfig, WEBHOOK_EVENTS } from "../../../src/index.js";
import { shownValue } from "../../../src/config/settings.js";
import { taskWebhooks, webhookSecrets } from "../../../src/webhooks/endpoints.js";
import { GraphRegistry } from "../../../src/definition/registry.js";
import { webhookBackoff } from "../../../src/webhooks/deliverer.js";
import { buildOpenApi } from "../../../src/codegen/openapi.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

function configError(values: Parameters<typeof resolveConfig>[0]): KaygraphError {
  try {
    resolveConfig(values, "/tmp");
  } catch (error) {
    if (error instanceof KaygraphError) return error;
    throw error;
  }
  throw new Error("expected a config error");
}

describe("webhook settings", () => {
  it("defaults: no endpoints, delivery timeout 10 s, backoff 5 s doubling up to 1 h, give up after 24 h", () => {
    const config = resolveConfig({}, "/tmp");
    expect(config.webhooks).toEqual([]);
    expect(config.webhookDelivery).toEqual({ timeoutMs: 10_000, backoffMs: 5_000, maxBackoffMs: 3_600_000, maxAgeMs: 86_400_000, concurrency: 8 });
    expect(WEBHOOK_EVENTS).toEqual(["task.completed", "task.failed", "task.cancelled", "task.interrupted"]);
  });

  it("accepts http(s) endpoints with whsec_ secrets and event lists", () => {
    const config = resolveConfig({ webhooks: [{ url: "https://example.com/hooks?x=1", secret: SECRET }, { url: "http://127.0.0.1:9000/in", secret: SECRET, events: ["task.failed"] }] }, "/tmp");
    expect(config.webhooks).toHaveLength(2);
  });

  it("refuses bad URLs, secrets, events and unknown keys with KG_CONFIG_INVALID naming the setting, never echoing the secret", () => {
    const bad = [
      [{ webhooks: [{ url: "ftp://example.com", secret: SECRET }] }, /webhooks\.0\.url: must be an absolute http:\/\/ or https:\/\/ URL/],
      [{ webhooks: [{ url: "not a url", secret: SECRET }] }, /webhooks\.0\.url/],
      [{ webhooks: [{ url: "https://e.com", secret: "hunter2-plain-text" }] }, /webhooks\.0\.secret: must be "whsec_" followed by the base64/],
      [{ webhooks: [{ url: "https://e.com", secret: "whsec_c2hvcnQ=" }] }, /webhooks\.0\.secret/],
      [{ webhooks: [{ url: "https://e.com", secret: "whsec_not base64!!" }] }, /webhooks\.0\.secret/],
      [{ webhooks: [{ url: "https://e.com", secret: SECRET, events: ["task.started"] }] }, /webhooks\.0\.events\.0: must be one of task\.completed/],
      [{ webhooks: [{ url: "https://e.com", secret: SECRET, events: [] }] }, /webhooks\.0\.events/],
      [{ webhooks: [{ url: "https://e.com", secret: SECRET, headers: {} }] }, /webhooks\.0\.headers: is not a kaygraph setting/],
      [{ webhookDelivery: { timeoutMs: 0 } }, /webhookDelivery\.timeoutMs/],
      [{ webhookDelivery: { retries: 3 } }, /webhookDelivery\.retries: is not a kaygraph setting/],
    ] as const;
    for (const [values, message] of bad) {
      const error = configError(values as never);
      expect(error.code).toBe("KG_CONFIG_INVALID");
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain("hunter2");
      expect(error.message).not.toContain("MfKQ9r8");
    }
  });

  it("shows endpoints with their secrets redacted", () => {
    expect(shownValue("webhooks", [{ url: "https://e.com", secret: SECRET, events: ["task.failed"] }])).toEqual([{ url: "https://e.com", secret: "(redacted)", events: ["task.failed"] }]);
    expect(shownValue("webhooks.0.secret", SECRET)).toBe("(redacted)");
    expect(shownValue("webhooks.0.url", "https://e.com")).toBe("https://e.com");
    // Unparsable KAYGRAPH_WEBHOOKS text may hold a secret: never shown.
    expect(shownValue("webhooks", `[{"secret":"${SECRET}"`)).toBe("(redacted)");
    expect(shownValue("auth.secret", "x")).toBe("(redacted)");
    expect(shownValue("server.port", 8000)).toBe(8000);
  });

  it("per definition: validated by defineGraph; a task's endpoints are the config's plus the graph's (same URL: the graph's wins)", () => {
    const base = { input: z.object({}), output: z.object({}), graph: new Graph() };
    expect(() => defineGraph({ ...base, webhooks: [{ url: "https://e.com", secret: "nope" }] })).toThrow(expect.objectContaining({ code: "KG_DEFINITION_INVALID", message: expect.stringMatching(/webhooks\.0\.secret/) }));
    const OTHER = "whsec_c2Vjb25kIHNlY3JldCBvZiAxNiBieXRlcw==";
    const def = defineGraph({ ...base, name: "g", webhooks: [{ url: "https://b.com", secret: OTHER, events: ["task.interrupted"] }, { url: "https://own.com", secret: OTHER }] });
    const config = resolveConfig({ webhooks: [{ url: "https://a.com", secret: SECRET }, { url: "https://b.com", secret: SECRET }] }, "/tmp");
    expect(taskWebhooks(config, def)).toEqual([
      { url: "https://a.com", events: [...WEBHOOK_EVENTS] },
      { url: "https://b.com", events: ["task.interrupted"] },
      { url: "https://own.com", events: [...WEBHOOK_EVENTS] },
    ]);
    expect(taskWebhooks(resolveConfig({}, "/tmp"), undefined)).toBeNull();
    const registry = new GraphRegistry([{ name: "g", version: 1, definition: def, file: "/x/g.ts", exportName: "default" }]);
    const secretFor = webhookSecrets(config, registry);
    expect(secretFor({ graph: "g", version: 1 }, "https://b.com")).toBe(OTHER);
    expect(secretFor({ graph: "other", version: 1 }, "https://b.com")).toBe(SECRET);
    expect(secretFor({ graph: "g", version: 1 }, "https://gone.com")).toBeUndefined();
  });

  it("backoff doubles from backoffMs up to maxBackoffMs, with at most 25% jitter", () => {
    const settings = { backoffMs: 100, maxBackoffMs: 1_000 };
    expect([1, 2, 3, 4, 5, 60].map((n) => webhookBackoff(n, settings, () => 0))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(webhookBackoff(2, settings, () => 1)).toBe(250);
  });

  it("OpenAPI documents the events a project sends under `webhooks` (none when no webhook is declared)", () => {
    const base = { input: z.object({}), output: z.object({}), graph: new Graph() };
    const def = defineGraph({ ...base, name: "g", webhooks: [{ url: "https://own.com", secret: SECRET, events: ["task.interrupted"] }] });
    const registry = new GraphRegistry([{ name: "g", version: 1, definition: def, file: "/x/g.ts", exportName: "default" }]);
    const config = resolveConfig({ webhooks: [{ url: "https://a.com", secret: SECRET, events: ["task.failed"] }] }, "/tmp");
    const doc = buildOpenApi(registry, config) as { webhooks: Record<string, { post: { parameters: Array<{ name: string }>; requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }> };
    expect(Object.keys(doc.webhooks)).toEqual(["task.failed", "task.interrupted"]);
    const post = doc.webhooks["task.failed"]!.post;
    expect(post.parameters.map((p) => p.name)).toEqual(["webhook-id", "webhook-timestamp", "webhook-signature"]);
    expect(post.requestBody.content["application/json"]!.schema.properties).toEqual({ type: { const: "task.failed" }, timestamp: { type: "string", format: "date-time" }, data: { $ref: "#/components/schemas/Task" } });
    expect(buildOpenApi(new GraphRegistry(), resolveConfig({}, "/tmp"))).not.toHaveProperty("webhooks");
  });
});
