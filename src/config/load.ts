import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { Errors, KaygraphError } from "../errors.js";
import { readDotenv } from "./dotenv.js";
import { deepFreeze, describeSource, flatten, mergeLayers, sourceOf, unflatten, type Layer, type Source } from "./layers.js";
import { configSchema, type KaygraphConfig, type ResolvedConfig } from "./schema.js";
import { SETTINGS, shownValue } from "./settings.js";
import { closest, knownKeys } from "./suggest.js";

/** Config file names looked up in the project directory, in order. */
export const CONFIG_FILES = ["kaygraph.config.ts", "kaygraph.config.mts", "kaygraph.config.js", "kaygraph.config.mjs", "kaygraph.config.json"];

/** Settings whose values are objects to keep whole (not flattened). */
const OPAQUE = new Set(["auth.publicKey"]);

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Project directory (default: process.cwd()). */
  cwd?: string;
  /** Explicit config file (`--config`), relative to cwd. */
  configFile?: string;
  /** Environment (default: process.env). `.env` in cwd fills in what it does not set. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by flag name (`{ "--port": "0" }`), as typed by the user. */
  flags?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** Defaults of the running command (e.g. `dev` listens on 127.0.0.1:3000), above the built-in ones. */
  commandDefaults?: { name: string; values: KaygraphConfig };
}

/** The resolved config and where each setting came from. */
export interface LoadedConfig {
  config: ResolvedConfig;
  /** Every setting (defaults included), flat, with its source. */
  settings: Layer;
  /** Variables read from `.env` (not already in the environment). */
  dotenv: Record<string, string>;
}

/**
 * Loads settings: built-in defaults < command defaults < config file < environment (and `.env`) < flags,
 * validates them with one schema, and returns them frozen. Invalid settings throw one error listing every
 * problem with its setting, source and what is allowed.
 *
 * @example
 * const { config } = await loadConfig({ cwd: "my-app", flags: { "--port": "0" } });
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const env = options.env ?? process.env;
  const configFile = findConfigFile(cwd, options.configFile);
  const layers: Layer[] = [];
  if (options.commandDefaults) {
    layers.push(flatten(options.commandDefaults.values as Record<string, unknown>, { kind: "command", name: options.commandDefaults.name }, OPAQUE));
  }
  if (configFile) {
    const fileValues = await importConfigFile(configFile);
    layers.push(flatten(fileValues, { kind: "file", file: path.relative(cwd, configFile) || configFile }, OPAQUE));
  }
  const dotenvFile = path.join(cwd, ".env");
  const dotenv = existsSync(dotenvFile) ? await readDotenv(dotenvFile) : {};
  const fresh: Record<string, string> = {};
  for (const [k, v] of Object.entries(dotenv)) if (env[k] === undefined) fresh[k] = v;
  layers.push(envLayer(fresh, (name) => ({ kind: "dotenv", name, file: ".env" })));
  layers.push(envLayer(env, (name) => ({ kind: "env", name })));
  layers.push(flagLayer(options.flags ?? {}));

  const merged = mergeLayers(layers);
  const parsed = configSchema.safeParse(unflatten(merged));
  if (!parsed.success) throw configError(parsed.error.issues, merged, configFile);

  const root = configFile ? path.dirname(configFile) : cwd;
  const config = finish(parsed.data, root, configFile);
  const settings = mergeLayers([flatten(parsed.data as Record<string, unknown>, { kind: "default" }, OPAQUE), merged]);
  for (const [key, entry] of settings) {
    // Show validated values (with defaults applied under objects the user set partially).
    const value = readPath(parsed.data, key);
    if (value !== undefined) settings.set(key, { value, source: entry.source });
  }
  return { config, settings, dotenv: fresh };
}

/** Resolves relative paths against `root` and freezes. */
function finish(data: z.output<typeof configSchema>, root: string, configFile: string | undefined): ResolvedConfig {
  return deepFreeze({
    ...data,
    graphs: path.isAbsolute(data.graphs) ? data.graphs : path.join(root, data.graphs),
    tasks: { ...data.tasks, database: path.resolve(root, data.tasks.database) },
    rateLimit: { ...data.rateLimit, database: path.resolve(root, data.rateLimit.database) },
    server: { ...data.server, ...(data.server.static !== undefined && { static: path.resolve(root, data.server.static) }) },
    root,
    configFile,
  });
}

/**
 * Validates settings given as an object (no file, env or flags) and resolves them against `root` — for
 * programmatic use and tests. Invalid settings throw the same error as {@link loadConfig}.
 *
 * @example
 * const config = resolveConfig({ server: { port: 0 } }, "/srv/app");
 */
export function resolveConfig(values: KaygraphConfig = {}, root: string = process.cwd()): ResolvedConfig {
  const layer = flatten(values as Record<string, unknown>, { kind: "file", file: "(settings object)" }, OPAQUE);
  const parsed = configSchema.safeParse(values);
  if (!parsed.success) throw configError(parsed.error.issues, layer, undefined);
  return finish(parsed.data, path.resolve(root), undefined);
}

function findConfigFile(cwd: string, explicit: string | undefined): string | undefined {
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file)) throw new KaygraphError(Errors.ConfigLoad, { message: `Config file ${explicit} does not exist (looked in ${cwd}).`, hint: "Check the --config path." });
    return file;
  }
  for (const name of CONFIG_FILES) {
    const file = path.join(cwd, name);
    if (existsSync(file)) return file;
  }
  return undefined;
}

async function importConfigFile(file: string): Promise<Record<string, unknown>> {
  try {
    if (file.endsWith(".json")) return JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    const { importModule } = await import("./import-module.js");
    const mod = await importModule(file);
    const value = (mod.default ?? mod.config) as unknown;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new KaygraphError(Errors.ConfigLoad, { message: `${path.basename(file)} must default-export an object: export default defineConfig({ ... })` });
    }
    return value as Record<string, unknown>;
  } catch (error) {
    if (KaygraphError.is(error)) throw error;
    const { describeLoadError } = await import("./import-module.js");
    throw new KaygraphError(Errors.ConfigLoad, { message: `${path.basename(file)}: ${describeLoadError(error, path.dirname(file))}`, cause: error });
  }
}

function envLayer(env: Readonly<Record<string, string | undefined>>, source: (name: string) => Source): Layer {
  const layer: Layer = new Map();
  for (const row of SETTINGS) {
    // The first listed variable wins (KAYGRAPH_PORT over PORT).
    const name = row.env.find((n) => env[n] !== undefined && env[n] !== "");
    if (name === undefined) continue;
    setRow(layer, row.path, row.parse(env[name] as string), source(name));
  }
  return layer;
}

function flagLayer(flags: Readonly<Record<string, string | number | boolean | undefined>>): Layer {
  const layer: Layer = new Map();
  for (const row of SETTINGS) {
    if (!row.flag) continue;
    const raw = flags[row.flag];
    if (raw === undefined) continue;
    setRow(layer, row.path, typeof raw === "string" ? row.parse(raw) : raw, { kind: "flag", flag: row.flag });
  }
  return layer;
}

/** `--rate-limit off|<spec>` (and KAYGRAPH_RATE_LIMIT) switch limits off, or on with that anonymous limit. */
function setRow(layer: Layer, key: string, value: unknown, source: Source): void {
  if (key === "rateLimit.anonymous") {
    const off = typeof value === "string" && ["off", "none", "false", "0"].includes(value.trim().toLowerCase());
    layer.set("rateLimit.enabled", { value: !off, source });
    if (off) return;
  }
  layer.set(key, { value, source });
}

function readPath(object: unknown, key: string): unknown {
  let node = object;
  for (const part of key.split(".")) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** One line per problem: setting, what is wrong, where the value came from. */
function configError(issues: readonly z.core.$ZodIssue[], merged: Layer, configFile: string | undefined): KaygraphError {
  const lines = issues.map((issue) => {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
    return keys
      .map((extra) => {
        const parts = [...issue.path.map(String), ...(extra === undefined ? [] : [extra])];
        const key = parts.join(".") || "(root)";
        const source = sourceOf(merged, key);
        const value = merged.get(key)?.value;
        const shown = value === undefined ? "" : `, got ${JSON.stringify(shownValue(key, value))}`;
        const message = extra === undefined ? issue.message : "is not a kaygraph setting";
        const didYouMean = extra === undefined ? "" : suggestion(issue.path, extra);
        return `${key}: ${message}${shown}${source ? ` (from ${describeSource(source)})` : ""}${didYouMean}`;
      })
      .join("\n");
  });
  if (configFile) lines.push(`config file: ${configFile}`);
  return new KaygraphError(Errors.ConfigInvalid, { message: lines.join("\n") });
}

/** `; did you mean server?` when a known key at the same place is close to the unknown one. */
function suggestion(parent: readonly PropertyKey[], unknown: string): string {
  const match = closest(unknown, knownKeys(configSchema, parent));
  return match === undefined ? "" : `; did you mean ${[...parent.map(String), match].join(".")}?`;
}

/** Applies `.env` values to process.env so graph code sees them too (never overriding the real environment). */
export function applyDotenv(values: Readonly<Record<string, string>>): void {
  for (const [k, v] of Object.entries(values)) process.env[k] ??= v;
}
