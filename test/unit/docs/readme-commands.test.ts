import { readFileSync } from "node:fs";
import type { Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { createProgram } from "../../../src/cli/program.js";

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const program = createProgram();

/** The text from the heading matching `heading` up to the next heading of any level. */
function sectionOf(heading: RegExp): string | undefined {
  const lines = readme.split("\n");
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && /^#{1,6} /.test(line));
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

/** A flag as a whole word: `--port` does not count for `--port-range`, nor `--log` for `--log-level`. */
function mentions(text: string, flag: string): boolean {
  const escaped = flag.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![\\w-])${escaped}(?![\\w-])`).test(text);
}

/** Every spelling of an option the README must show: its long flag and its short one. */
function flagsOf(option: Option): string[] {
  return [option.long, option.short].filter((f): f is string => f !== undefined);
}

function missingFlags(text: string, command: Command): string[] {
  return command.options.flatMap(flagsOf).filter((flag) => !mentions(text, flag));
}

describe("README command reference", () => {
  it("has a section for every command", () => {
    for (const command of program.commands) {
      expect(sectionOf(new RegExp(`^### \`kaygraph ${command.name()}[\\s\`]`)), `README has no "### \`kaygraph ${command.name()}\`" section`).toBeDefined();
    }
  });

  it.each(program.commands.map((c) => [c.name(), c] as const))("documents every flag of kaygraph %s in its section", (name, command) => {
    const section = sectionOf(new RegExp(`^### \`kaygraph ${name}[\\s\`]`)) ?? "";
    expect(missingFlags(section, command), `flags of kaygraph ${name} missing from its README section`).toEqual([]);
  });

  it("documents the global flags before the first command", () => {
    const intro = sectionOf(/^## Commands$/) ?? "";
    const globals = [...program.options.flatMap(flagsOf), "--help", "-h"];
    expect(globals.filter((flag) => !mentions(intro, flag))).toEqual([]);
  });

  it("finds a flag only as a whole word", () => {
    expect(mentions("`--log-level`", "--log")).toBe(false);
    expect(mentions("`-q/--quiet`", "-q")).toBe(true);
    expect(mentions("(`--port`, `--workers`…)", "--port")).toBe(true);
  });
});
