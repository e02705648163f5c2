import { Command } from "commander";
import { describeSource } from "../../config/layers.js";
import { SETTINGS, shownValue } from "../../config/settings.js";
import { loadProject, withSettingFlags } from "../project.js";

/** Every setting flag, so `kaygraph config --port 0` previews what a command with that flag would use. */
const ALL_FLAGS = SETTINGS.filter((s) => s.flag && s.arg).map((s) => s.flag as string);

/** `kaygraph config`: the resolved settings and where each came from, secrets redacted. */
export function configCommand(): Command {
  return withSettingFlags(new Command("config"), ALL_FLAGS)
    .description("print the resolved settings and where each came from (secrets redacted)")
    .option("--json", "print JSON: { setting: { value, source } }")
    .action(async (flags: { json?: boolean }, command: Command) => {
      const { settings, config } = await loadProject(command);
      const rows = [...settings.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, { value, source }]) => {
          const shown = key === "graphs" ? config.graphs : key === "tasks.database" ? config.tasks.database : value;
          return { key, value: shownValue(key, shown), source: describeSource(source) };
        });
      if (flags.json) {
        const out = Object.fromEntries(rows.map((r) => [r.key, { value: r.value, source: r.source }]));
        process.stdout.write(`${JSON.stringify({ root: config.root, configFile: config.configFile ?? null, settings: out }, null, 2)}\n`);
        return;
      }
      const cells = rows.map((r) => [r.key, JSON.stringify(r.value), r.source]);
      const widths = [0, 1].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
      process.stderr.write(`project ${config.root}${config.configFile ? `, config ${config.configFile}` : ", no config file"}\n`);
      process.stdout.write(`${cells.map((c) => `${c[0]!.padEnd(widths[0]!)}  ${c[1]!.padEnd(widths[1]!)}  ${c[2]}`).join("\n")}\n`);
    });
}
