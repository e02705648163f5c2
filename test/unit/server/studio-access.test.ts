import { describe, expect, it } from "vitest";
import { GraphRegistry } from "../../../src/definition/registry.js";
import { routeAccess } from "../../../src/server/route-access.js";
import { testConfig } from "../../helpers/app-server.js";

describe("the studio behind auth", () => {
  const registry = new GraphRegistry([]);

  it("with server.studio the page and its scripts are public and unlimited; its graph list needs a token like the API", () => {
    const access = routeAccess(testConfig({ server: { studio: true }, auth: { mode: "jwt", secret: "x".repeat(32) } }), registry);
    for (const path of ["/_kaygraph", "/_kaygraph/", "/_kaygraph/assets/studio/app.js", "/_kaygraph/assets/client/index.js", "/_kaygraph/assets/mermaid.min.js"]) {
      expect([path, access.isPublic(path), access.isLimited(path)]).toEqual([path, true, false]);
    }
    expect(access.isPublic("/_kaygraph/api/graphs")).toBe(false);
    expect(access.isLimited("/_kaygraph/api/graphs")).toBe(true);
  });

  it("without it nothing under /_kaygraph is public, and a static folder never serves it", () => {
    const access = routeAccess(testConfig({ server: { static: "public" } }), registry);
    expect(access.isPublic("/_kaygraph/")).toBe(false);
    expect(access.isPublic("/_kaygraph/assets/studio/app.js")).toBe(false);
    expect(access.isPublic("/index.html")).toBe(true);
  });
});
