import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { inspectTarget, planCopy, projectPath, writeFailure, writeProject } from "../../../src/init/copy-plan.js";
import { tempDir } from "./support.js";

async function writeFiles(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [name, contents] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), contents);
  }
}

describe("projectPath", () => {
  it("turns a leading _ into . for files in the template's top folder", () => {
    expect(projectPath("_gitignore")).toBe(".gitignore");
    expect(projectPath("_env.example")).toBe(".env.example");
    expect(projectPath("_dockerignore")).toBe(".dockerignore");
  });

  it("keeps other names, and _ files deeper down (graph helpers are skipped by discovery on purpose)", () => {
    expect(projectPath("package.json")).toBe("package.json");
    expect(projectPath("graphs/_shared.ts")).toBe("graphs/_shared.ts");
    expect(projectPath("__double")).toBe("__double");
    expect(projectPath("graphs\\chat.ts")).toBe("graphs/chat.ts");
  });
});

describe("planCopy", () => {
  it("lists every file with its project path, sorted, skipping installs, local state and secrets", async () => {
    const dir = await tempDir();
    await writeFiles(dir, {
      "package.json": "{}",
      _gitignore: "node_modules/\n",
      _env_example: "",
      "graphs/b.ts": "",
      "graphs/_helpers.ts": "",
      "graphs/nested/a.ts": "",
      "node_modules/x/index.js": "",
      ".kaygraph/generated/routes.ts": "",
      ".env": "SECRET=1",
      "package-lock.json": "{}",
    });
    const plan = await planCopy(dir);
    expect(plan.map((e) => e.target)).toEqual([".env_example", ".gitignore", "graphs/_helpers.ts", "graphs/b.ts", "graphs/nested/a.ts", "package.json"]);
    expect(plan.find((e) => e.target === ".gitignore")?.source).toBe(path.join(dir, "_gitignore"));
  });

  it("fails clearly when the template folder is missing", async () => {
    await expect(planCopy("/nonexistent/template")).rejects.toMatchObject({ code: "KG_INIT_TEMPLATE_UNKNOWN" });
  });
});

describe("writeProject", () => {
  it("copies byte for byte, applies structured edits, and reports replaced files", async () => {
    const template = await tempDir();
    const target = await tempDir();
    const binary = randomBytes(4096);
    const crlf = "line one\r\nline two\r\n\ttabbed  \n";
    await writeFiles(template, { "public/logo.bin": binary, "README.md": crlf, "package.json": '{ "name": "t" }\n' });
    await writeFiles(target, { "README.md": "old", "keep.txt": "mine" });
    const result = await writeProject(await planCopy(template), target, { edits: { "package.json": (text) => text.replace('"t"', '"app"') } });
    expect(Buffer.compare(await readFile(path.join(target, "public/logo.bin")), binary)).toBe(0);
    expect(await readFile(path.join(target, "README.md"), "utf8")).toBe(crlf);
    expect(await readFile(path.join(target, "package.json"), "utf8")).toBe('{ "name": "app" }\n');
    expect(await readFile(path.join(target, "keep.txt"), "utf8")).toBe("mine");
    expect(result).toEqual({ written: ["package.json", "public/logo.bin", "README.md"], overwritten: ["README.md"] });
  });

  it("names the files already written when one cannot be written", async () => {
    const template = await tempDir();
    const target = await tempDir();
    await writeFiles(template, { "a.txt": "a", "b/c.txt": "c" });
    // A file where the folder b/ must go.
    await writeFiles(target, { b: "in the way" });
    const failure = writeProject(await planCopy(template), target);
    await expect(failure).rejects.toMatchObject({ code: "KG_INIT_WRITE_FAILED", exitCode: 1 });
    await expect(failure).rejects.toThrow(/Could not write b\/c\.txt .*Already written in .*: a\.txt\./);
  });

  it("says that nothing was written when the first file fails", () => {
    const error = writeFailure("/x/app", "package.json", [], Object.assign(new Error("no space"), { code: "ENOSPC" }));
    expect(error).toMatchObject({ code: "KG_INIT_WRITE_FAILED", message: "Could not write package.json (ENOSPC). Nothing was written." });
  });
});

describe("inspectTarget", () => {
  it("tells a missing, an empty and a non-empty directory apart", async () => {
    const dir = await tempDir();
    expect(await inspectTarget(path.join(dir, "new"))).toEqual({ exists: false, entries: [] });
    expect(await inspectTarget(dir)).toEqual({ exists: true, entries: [] });
    await writeFiles(dir, { "b.txt": "", "a.txt": "" });
    expect(await inspectTarget(dir)).toEqual({ exists: true, entries: ["a.txt", "b.txt"] });
  });

  it("treats a directory holding only .git as empty (a fresh clone)", async () => {
    const dir = await tempDir();
    await writeFiles(dir, { ".git/HEAD": "ref: refs/heads/main\n" });
    expect(await inspectTarget(dir)).toEqual({ exists: true, entries: [] });
  });

  it("refuses a path that is a file", async () => {
    const dir = await tempDir();
    await writeFiles(dir, { "file.txt": "" });
    await expect(inspectTarget(path.join(dir, "file.txt"))).rejects.toMatchObject({ code: "KG_INIT_TARGET_INVALID", exitCode: 2 });
  });
});
