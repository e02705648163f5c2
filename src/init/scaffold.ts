import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { planCopy, writeFailure, writeProject, type WriteResult } from "./copy-plan.js";
import { patchPackageJson } from "./package-json.js";
import type { InitPlan } from "./plan.js";
import { templateDir, templatesRoot } from "./templates.js";

/** An empty `KAYGRAPH_SECRET_KEY=` line: the template needs a secret and leaves it to `init`. */
const EMPTY_SECRET = /^KAYGRAPH_SECRET_KEY=[ \t]*$/m;

/**
 * The text of a `.env` made from `.env.example` with a fresh random secret, when the example has an empty
 * `KAYGRAPH_SECRET_KEY=` line (the production template); otherwise undefined. 48 random bytes, base64url.
 *
 * @example
 * envWithSecret("KAYGRAPH_AUTH=jwt\nKAYGRAPH_SECRET_KEY=\n"); // "KAYGRAPH_AUTH=jwt\nKAYGRAPH_SECRET_KEY=Xq3…\n"
 */
export function envWithSecret(example: string, secret: string = randomBytes(48).toString("base64url")): string | undefined {
  if (!EMPTY_SECRET.test(example)) return undefined;
  return example.replace(EMPTY_SECRET, `KAYGRAPH_SECRET_KEY=${secret}`);
}

/**
 * Writes the template's files into the plan's directory: a byte-for-byte copy, `package.json` with the
 * project's name and `kaygraph` dependency, and a `.env` with a generated secret when the template asks
 * for one and no `.env` exists.
 */
export async function scaffold(plan: InitPlan, root: string = templatesRoot()): Promise<WriteResult> {
  const files = await planCopy(templateDir(plan.template.name, root));
  try {
    await mkdir(plan.targetDir, { recursive: true });
  } catch (error) {
    throw writeFailure(plan.targetDir, plan.shownDir, [], error);
  }
  const result = await writeProject(files, plan.targetDir, {
    edits: { "package.json": (text) => patchPackageJson(text, { name: plan.packageName, kaygraph: plan.kaygraph }) },
  });
  if (result.written.includes(".env.example")) {
    const envFile = path.join(plan.targetDir, ".env");
    const exists = await stat(envFile).then(
      () => true,
      () => false,
    );
    const env = exists ? undefined : envWithSecret(await readFile(path.join(plan.targetDir, ".env.example"), "utf8"));
    if (env !== undefined) {
      try {
        await writeFile(envFile, env, { mode: 0o600 });
      } catch (error) {
        throw writeFailure(plan.targetDir, ".env", result.written, error);
      }
      result.written.push(".env");
    }
  }
  return result;
}
