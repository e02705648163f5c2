import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signWebhook, verifyWebhook, WebhookVerificationError } from "../../../src/index.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** The spec's definition, computed here without the package: base64 HMAC-SHA256 of "id.timestamp.body". */
function independent(secret: string, id: string, timestamp: string, body: string): string {
  return createHmac("sha256", Buffer.from(secret.slice("whsec_".length), "base64")).update(`${id}.${timestamp}.${body}`).digest("base64");
}

describe("signWebhook", () => {
  it("matches the Standard Webhooks test vector", () => {
    const headers = signWebhook(SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", '{"test": 2432232314}', 1614265330);
    expect(headers).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
  });

  it("signs id.timestamp.body with the decoded secret, timestamp in whole seconds", () => {
    const body = JSON.stringify({ type: "task.completed", timestamp: "2026-12-07T00:00:00.000Z", data: { id: "t1", status: "completed", text: "é ✓" } });
    const headers = signWebhook(SECRET, "msg_1", body, 1_765_000_000.9);
    expect(headers["webhook-timestamp"]).toBe("1765000000");
    expect(headers["webhook-signature"]).toBe(`v1,${independent(SECRET, "msg_1", "1765000000", body)}`);
    const now = Math.floor(Date.now() / 1000);
    expect(Number(signWebhook(SECRET, "msg_2", body)["webhook-timestamp"])).toBeGreaterThanOrEqual(now);
  });
});

describe("verifyWebhook", () => {
  const body = '{"type":"task.failed","timestamp":"x","data":{"id":"t"}}';
  const now = 1_765_000_000;
  const headers = signWebhook(SECRET, "msg_9", body, now);

  it("accepts an authentic message (plain object, Headers, Buffer body, several signatures) and returns the body", () => {
    expect(verifyWebhook(SECRET, headers, body, { now })).toEqual({ type: "task.failed", timestamp: "x", data: { id: "t" } });
    expect(verifyWebhook(SECRET, new Headers({ ...headers }), Buffer.from(body), { now: now + 299 })).toMatchObject({ type: "task.failed" });
    const rotated = { ...headers, "webhook-signature": `v1,AAAA ${headers["webhook-signature"]}` };
    expect(verifyWebhook(SECRET, rotated, body, { now })).toMatchObject({ data: { id: "t" } });
  });

  it("refuses a changed body, id or secret, a stale timestamp, and missing headers", () => {
    const fails = (fn: () => unknown, message: RegExp) => expect(fn).toThrow(expect.objectContaining({ name: "WebhookVerificationError", message: expect.stringMatching(message) }));
    fails(() => verifyWebhook(SECRET, headers, body.replace("failed", "completed"), { now }), /no matching signature/);
    fails(() => verifyWebhook(SECRET, { ...headers, "webhook-id": "msg_other" }, body, { now }), /no matching signature/);
    fails(() => verifyWebhook("whsec_c2Vjb25kIHNlY3JldCBvZiAxNiBieXRlcw==", headers, body, { now }), /no matching signature/);
    fails(() => verifyWebhook(SECRET, headers, body, { now: now + 301 }), /too old/);
    fails(() => verifyWebhook(SECRET, { "webhook-id": "msg_9" }, body, { now }), /missing/);
    fails(() => verifyWebhook(SECRET, { ...headers, "webhook-signature": headers["webhook-signature"].replace("v1,", "v2,") }, body, { now }), /no matching/);
    expect(() => verifyWebhook(SECRET, headers, body, { now: now + 1000 })).toThrow(WebhookVerificationError);
  });
});
