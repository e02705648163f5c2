import path from "node:path";
import { Command } from "commander";
import { loadProject } from "../project.js";

interface GenerateFlags {
  out?: string;
  check?: boolean;
  json?: boolean;
}

/** `kaygraph generate`: typed route handlers, a typed client and openapi.json in `.kaygraph/generated/`. */
export function generateCommand(): Command {
  return new Command("generate")
    .description("write typed route handlers, a typed client and openapi.json to .kaygraph/generated/")
    .option("--out <dir>", "output directory, relative to the project (default: .kaygraph/generated)")
    .option("--check", "write nothing; exit 1 when the generated files are out of date (for CI)")
    .option("--json", "print { dir, files: [{ name, path, changed }] } on stdout")
    .option("--graphs <dir|glob>", "graph definition files")
    .action(async (flags: GenerateFlags, command: Command) => {
      const { config } = await loadProject(command);
      const [{ loadGraphs }, { generate }] = await Promise.all([import("../../definition/load.js"), import("../../codegen/generate.js")]);
      const result = await generate(config, await loadGraphs(config), { outDir: flags.out, check: flags.check === true });
      if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      const where = path.relative(process.cwd(), result.dir) || ".";
      const changed = result.files.filter((f) => f.changed).map((f) => f.name);
      const unchanged = result.files.filter((f) => !f.changed).map((f) => f.name);
      if (flags.check) {
        if (changed.length > 0) {
          process.stderr.write(`✖ out of date in ${where}: ${changed.join(", ")} (run \`kaygraph generate\`)\n`);
          process.exitCode = 1;
        } else process.stderr.write(`✓ ${where} is up to date\n`);
        return;
      }
      const summary = [changed.length > 0 && `wrote ${changed.join(", ")}`, unchanged.length > 0 && `${unchanged.join(", ")} unchanged`].filter(Boolean).join("; ");
      process.stderr.write(`✓ ${where}: ${summary}\n`);
    });
}
