import { Command, Option } from "commander";
import { applyDotenv, loadConfig, type LoadConfigOptions, type LoadedConfig } from "../config/load.js";
import type { KaygraphConfig } from "../config/schema.js";
import { SETTINGS, settingForFlag } from "../config/settings.js";

/** Global options every command sees (declared once on the program). */
export interface GlobalOptions {
  config?: string;
  cwd?: string;
  debug?: boolean;
}

/** Adds the setting flags `flags` (e.g. `["--port", "--host"]`) to `command`, with help from the settings table. */
export function withSettingFlags(command: Command, flags: readonly string[]): Command {
  for (const flag of flags) {
    const row = settingForFlag(flag);
    if (!row?.arg) throw new Error(`No setting has the flag ${flag}`);
    const env = row.env.length ? ` (env ${row.env.join(", ")})` : "";
    command.addOption(new Option(`${flag} ${row.arg}`, `${row.help ?? row.path}${env}`));
  }
  return command;
}

/** Collects the setting flags the user typed, keyed by flag name, for the config loader. */
export function settingFlagValues(command: Command): Record<string, string | undefined> {
  const opts = command.opts<Record<string, unknown>>();
  const values: Record<string, string | undefined> = {};
  for (const row of SETTINGS) {
    if (!row.flag) continue;
    const key = row.flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const value = opts[key];
    if (typeof value === "string") values[row.flag] = value;
  }
  return values;
}

/**
 * Loads the project's settings for a command: global `--cwd`/`--config`, the command's setting flags, and
 * its own defaults. Applies `.env` to process.env so graph code sees those variables too — except for the
 * supervisor commands (`supervised: true`): their workers read `.env` afresh on every start, and values the
 * primary had copied into its environment would be inherited as "real" ones and hide an edited `.env`.
 */
export async function loadProject(
  command: Command,
  commandDefaults?: { name: string; values: KaygraphConfig },
  { supervised = false }: { supervised?: boolean } = {},
): Promise<LoadedConfig & { options: LoadConfigOptions }> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const options: LoadConfigOptions = { cwd: globals.cwd, configFile: globals.config, flags: settingFlagValues(command), commandDefaults };
  const loaded = await loadConfig(options);
  if (!supervised) applyDotenv(loaded.dotenv);
  return { ...loaded, options };
}
