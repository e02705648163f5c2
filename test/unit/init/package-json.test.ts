import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { kaygraphDependency, patchPackageJson, toPackageName } from "../../../src/init/package-json.js";
import { envWithSecret } from "../../../src/init/scaffold.js";
import { templateDir } from "../../../src/init/templates.js";

const REPO = path.resolve(import.meta.dirname, "../../..");

describe("toPackageName", () => {
  it.each([
    ["my-app", "my-app"],
    ["My Graph App", "my-graph-app"],
    ["  spaced  ", "spaced"],
    [".hidden", "hidden"],
    ["_under", "under"],
    ["émoji 🚀 api", "moji-api"],
    ["a!!b??c", "a-b-c"],
    ["trailing---", "trailing"],
    ["!!!", "kaygraph-app"],
    ["x".repeat(300), "x".repeat(214)],
  ])("%j → %j", (dir, name) => {
    expect(toPackageName(dir)).toBe(name);
  });
});

describe("kaygraphDependency", () => {
  const at = { version: "0.1.0", cwd: "/work/apps" };

  it("defaults to the running CLI's version", () => {
    expect(kaygraphDependency(undefined, at)).toBe("^0.1.0");
    expect(kaygraphDependency("  ", at)).toBe("^0.1.0");
  });

  it("passes versions, ranges and tags through", () => {
    expect(kaygraphDependency("0.2.0", at)).toBe("0.2.0");
    expect(kaygraphDependency("^0.3.0", at)).toBe("^0.3.0");
    expect(kaygraphDependency("next", at)).toBe("next");
    expect(kaygraphDependency("github:me/kaygraph#main", at)).toBe("github:me/kaygraph#main");
  });

  it("turns a path to a clone or a tarball into an absolute file: spec", () => {
    const at = { version: "0.1.0", cwd: "/work/apps", mustExist: false };
    expect(kaygraphDependency("../kaygraph", at)).toBe("file:/work/kaygraph");
    expect(kaygraphDependency("./vendor/kaygraph-0.1.0.tgz", at)).toBe("file:/work/apps/vendor/kaygraph-0.1.0.tgz");
    expect(kaygraphDependency("/abs/kaygraph", at)).toBe("file:/abs/kaygraph");
    expect(kaygraphDependency("kaygraph-0.1.0.tgz", at)).toBe("file:/work/apps/kaygraph-0.1.0.tgz");
    expect(kaygraphDependency("file:../kaygraph", at)).toBe("file:/work/kaygraph");
    expect(kaygraphDependency("file:/abs/kaygraph", at)).toBe("file:/abs/kaygraph");
  });

  it("refuses a local build that does not exist (npm would link it without complaint)", () => {
    expect(() => kaygraphDependency("../nowhere/kaygraph", { version: "0.1.0", cwd: "/tmp" })).toThrow(
      expect.objectContaining({ code: "KG_USAGE", exitCode: 2, message: "--kaygraph-version (or KAYGRAPH_INIT_DEP) names /nowhere/kaygraph, which does not exist." }),
    );
    expect(kaygraphDependency(REPO, { version: "0.1.0", cwd: "/tmp" })).toBe(`file:${REPO}`);
  });
});

describe("patchPackageJson", () => {
  it("sets the name and the kaygraph dependency, keeping order, indentation and the final newline", () => {
    const text = '{\n    "name": "template",\n    "private": true,\n    "dependencies": {\n        "kaygraph": "^0.0.1",\n        "zod": "^4.0.0"\n    }\n}\n';
    expect(patchPackageJson(text, { name: "my-app", kaygraph: "file:/src/kaygraph" })).toBe(
      '{\n    "name": "my-app",\n    "private": true,\n    "dependencies": {\n        "kaygraph": "file:/src/kaygraph",\n        "zod": "^4.0.0"\n    }\n}\n',
    );
  });

  it("adds dependencies when missing and moves kaygraph out of devDependencies", () => {
    const out = JSON.parse(patchPackageJson('{"name":"t","devDependencies":{"kaygraph":"1","vitest":"4"}}', { name: "a", kaygraph: "^0.1.0" }));
    expect(out).toEqual({ name: "a", devDependencies: { vitest: "4" }, dependencies: { kaygraph: "^0.1.0" } });
  });

  it("patches every shipped template's package.json and changes nothing else", () => {
    for (const name of ["basic", "background", "streaming", "production", "human-in-the-loop"]) {
      const text = readFileSync(path.join(templateDir(name), "package.json"), "utf8");
      const patched = patchPackageJson(text, { name: "app", kaygraph: "^9.9.9" });
      const before = JSON.parse(text);
      expect(JSON.parse(patched)).toEqual({ ...before, name: "app", dependencies: { ...before.dependencies, kaygraph: "^9.9.9" } });
      expect(patched.endsWith("}\n")).toBe(true);
    }
  });

  it("refuses a template package.json that is not JSON", () => {
    expect(() => patchPackageJson("{ nope", { name: "a", kaygraph: "1" })).toThrow(/not valid JSON/);
  });
});

describe("envWithSecret", () => {
  it("fills an empty KAYGRAPH_SECRET_KEY line with a fresh secret, leaving the rest as it is", () => {
    const env = envWithSecret("# auth\nKAYGRAPH_SECRET_KEY=\n# KAYGRAPH_AUTH=jwt\n");
    expect(env).toMatch(/^# auth\nKAYGRAPH_SECRET_KEY=[A-Za-z0-9_-]{64}\n# KAYGRAPH_AUTH=jwt\n$/);
    expect(envWithSecret("KAYGRAPH_SECRET_KEY=\n")).not.toBe(envWithSecret("KAYGRAPH_SECRET_KEY=\n"));
  });

  it("writes no .env when the example needs no secret", () => {
    expect(envWithSecret("# KAYGRAPH_SECRET_KEY=\n")).toBeUndefined();
    expect(envWithSecret("KAYGRAPH_SECRET_KEY=already\n")).toBeUndefined();
    expect(envWithSecret(readFileSync(path.join(templateDir("basic"), "_env.example"), "utf8"))).toBeUndefined();
    expect(envWithSecret(readFileSync(path.join(templateDir("production"), "_env.example"), "utf8"))).toBeDefined();
  });
});
