import { describe, expect, it } from "vitest";
import { z } from "zod";
import { buildOpenApi } from "../../../src/codegen/openapi.js";
import { graphAt, registryOf } from "./support.js";

describe("OpenAPI of durable runs", () => {
  it("describes resume, state, the interrupted status and event, the sync 202 and each graph's resume schema", () => {
    const registry = registryOf([graphAt("graphs/approve.ts", "approve", 1, { resume: z.object({ approved: z.boolean() }) }), graphAt("graphs/plain.ts", "plain", 1)]);
    const doc = buildOpenApi(registry, { auth: { mode: "none" } } as never) as any;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/tasks/{id}/resume", "/tasks/{id}/state"]));
    expect(Object.keys(doc.paths["/tasks/{id}/resume"].post.responses)).toEqual(["202", "404", "409", "422"]);
    expect(doc.paths["/api/v1/approve"].post.responses["202"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/InterruptedTask" });
    expect(doc.components.schemas.Task.properties.status.enum).toContain("interrupted");
    expect(doc.components.schemas.RunEvent.properties.type.enum).toContain("interrupt");
    expect(doc.components.schemas.ApproveV1Resume).toMatchObject({ type: "object", properties: { approved: { type: "boolean" } } });
    expect(Object.keys(doc.components.schemas).filter((k) => k.endsWith("Resume"))).toEqual(["ApproveV1Resume"]);
  });
});
