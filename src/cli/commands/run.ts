import { Command, Option } from "commander";
import { Errors, KaygraphError } from "../../errors.js";
import { checkInputFlags } from "../input.js";
import { loadProject } from "../project.js";

interface RunFlags {
  input?: string;
  inputFile?: string;
  timeout?: string;
  events?: boolean;
  quiet?: boolean;
  resume?: string[];
}

/** `kaygraph run <graph>[@version]`: runs a graph once; the output JSON alone on stdout. */
export function runCommand(): Command {
  return new Command("run")
    .description("run a graph once: the output JSON alone on stdout, progress on stderr")
    .argument("<graph>", "graph name, optionally @version (default: the highest version)")
    .option("--input <json>", "input as JSON")
    .option("--input-file <path>", "read the input JSON from a file (- for stdin)")
    .addOption(new Option("--timeout <ms>", "abort the run after this many milliseconds").argParser(positiveInt("--timeout")))
    .option("--events", "print every run event as one JSON line on stdout instead of the output")
    .option("-q, --quiet", "no progress on stderr")
    .option("--resume <json>", "answer the graph's next interrupt with this JSON value (repeatable, matched by order)", (value: string, all: string[] = []) => [...all, value])
    .option("--graphs <dir|glob>", "graph definition files")
    .action(async (ref: string, flags: RunFlags, command: Command) => {
      // A usage error is reported before the project's config and graphs load (and could fail first).
      checkInputFlags(flags);
      const { config } = await loadProject(command);
      const { runOnce } = await import("../run-once.js");
      const output = await runOnce(config, ref, {
        input: flags.input,
        inputFile: flags.inputFile,
        timeoutMs: flags.timeout === undefined ? undefined : Number(flags.timeout),
        events: flags.events === true,
        quiet: flags.quiet === true,
        resume: (flags.resume ?? []).map(parseResumeFlag),
      });
      process.stdout.write(output);
    });
}

function positiveInt(flag: string) {
  return (value: string): string => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new KaygraphError(Errors.Usage, { message: `${flag} must be a whole number of milliseconds >= 1, got "${value}".` });
    return value;
  };
}

function parseResumeFlag(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw new KaygraphError(Errors.Usage, { message: `--resume must be JSON, got ${JSON.stringify(value)}: ${(error as Error).message}`, hint: `Quote the value for your shell, e.g. --resume '{"approved":true}' or --resume '"yes"'.` });
  }
}
