import { existsSync } from "node:fs";
import path from "node:path";
import { Errors, KaygraphError } from "../errors.js";

/** Used when a directory name has no character npm accepts in a package name. */
const FALLBACK_NAME = "kaygraph-app";

/**
 * A valid npm package name made from a directory name: lower case, characters npm does not accept become
 * `-`, no leading `.` or `_`, at most 214 characters.
 *
 * @example
 * toPackageName("My Graph App"); // "my-graph-app"
 */
export function toPackageName(dirName: string): string {
  const name = dirName
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, "-")
    .replace(/^[._-]+/, "")
    .replace(/-+$/, "")
    .replace(/-{2,}/g, "-")
    .slice(0, 214);
  return name === "" ? FALLBACK_NAME : name;
}

/** A spec that names something on disk rather than a registry version: a path, or a `file:` spec. */
function isLocalSpec(spec: string): boolean {
  return spec.startsWith("file:") || spec.startsWith(".") || spec.startsWith("/") || spec.startsWith("~") || /^[A-Za-z]:[\\/]/.test(spec) || /\.(tgz|tar\.gz)$/.test(spec);
}

/**
 * The `kaygraph` dependency a new project gets. By default `^<the running CLI's version>`. `requested`
 * (from `--kaygraph-version` or `KAYGRAPH_INIT_DEP`) may be a version or range (`0.1.0`, `^0.2.0`, `next`),
 * or a local build: a path to a clone or to an `npm pack` tarball, with or without `file:`, which becomes
 * an absolute `file:` spec so it resolves from the new project's folder; a local build that does not exist
 * is a usage error (unless `mustExist: false`).
 *
 * @example
 * kaygraphDependency(undefined, { version: "0.1.0", cwd: "/x" }); // "^0.1.0"
 * kaygraphDependency("../kaygraph", { version: "0.1.0", cwd: "/src/app" }); // "file:/src/kaygraph"
 */
export function kaygraphDependency(requested: string | undefined, at: { version: string; cwd: string; mustExist?: boolean }): string {
  const spec = requested?.trim();
  if (spec === undefined || spec === "") return `^${at.version}`;
  if (!isLocalSpec(spec)) return spec;
  let local = spec.replace(/^file:/, "");
  if (local.startsWith("~/") && process.env.HOME) local = path.join(process.env.HOME, local.slice(2));
  const resolved = path.resolve(at.cwd, local);
  // npm links a missing folder without complaint; say so now, before anything is asked or written.
  if (at.mustExist !== false && !existsSync(resolved)) {
    throw new KaygraphError(Errors.Usage, {
      message: `--kaygraph-version (or KAYGRAPH_INIT_DEP) names ${resolved}, which does not exist.`,
      hint: "Point it at a kaygraph clone (after `npm run build`) or at a tarball from `npm pack`, or leave it out to use the registry.",
    });
  }
  return `file:${resolved}`;
}

/** Indentation of a JSON text (the first indented line's), default two spaces. */
function indentOf(text: string): string {
  return /\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
}

/**
 * Sets the project's `name` and its `kaygraph` dependency in a template's package.json text, keeping key
 * order, indentation and the final newline.
 *
 * @example
 * patchPackageJson('{ "name": "template", "dependencies": { "kaygraph": "^0.1.0" } }', { name: "app", kaygraph: "^0.2.0" });
 */
export function patchPackageJson(text: string, patch: { name: string; kaygraph: string }): string {
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new KaygraphError(Errors.InitTemplateUnknown, { message: "The template's package.json is not valid JSON.", hint: "Reinstall kaygraph; its templates/ folder is damaged.", cause: error });
  }
  pkg.name = patch.name;
  const deps = { ...(pkg.dependencies as Record<string, string> | undefined) };
  deps.kaygraph = patch.kaygraph;
  pkg.dependencies = deps;
  const dev = pkg.devDependencies as Record<string, string> | undefined;
  if (dev && "kaygraph" in dev) delete dev.kaygraph;
  return `${JSON.stringify(pkg, null, indentOf(text))}\n`;
}
