/** Fenced code blocks of Markdown files, and shell-line helpers for the docs test. */

export interface CodeBlock {
  /** The info string's first word (`ts`, `sh`, `json`…), empty for a bare fence. */
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** Title of the nearest `## ` heading above the block ("" before the first one). */
  section: string;
}

/** Every fenced block (``` … ```) of a Markdown text. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split("\n");
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const heading = /^## (.*)$/.exec(lines[i] as string);
    if (heading) section = (heading[1] as string).trim();
    const open = /^```(\S*)/.exec(lines[i] as string);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !(lines[i] as string).startsWith("```"); i++) body.push(lines[i] as string);
    blocks.push({ lang: open[1] ?? "", code: body.join("\n"), line: start + 1, section });
  }
  return blocks;
}

/** One command of a shell block and the comment at the end of its line (on the last command of a chain). */
export interface ShellCommand {
  command: string;
  /** The trailing `# …` comment's text, "" if none; e.g. `401` for `curl … # 401`. */
  note: string;
}

/** The commands of a shell block with their notes: comment lines dropped, `\` continuations joined, `&&` chains split. */
export function shellLines(code: string): ShellCommand[] {
  const joined = code.replace(/\\\n\s*/g, " ");
  return joined
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .flatMap((line) => {
      const note = /\s+#\s*(.*)$/.exec(line);
      const commands = line.slice(0, note?.index ?? line.length).trim().split(/\s+&&\s+/);
      return commands.map((command, i) => ({ command, note: i === commands.length - 1 ? (note?.[1] ?? "").trim() : "" }));
    });
}

/** The commands of a shell block: comments dropped, `\` continuations joined, `&&` chains split. */
export function shellCommands(code: string): string[] {
  return shellLines(code).map((c) => c.command);
}

/** Splits a shell command into words, honouring single and double quotes (no expansion). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: string | undefined;
  let inWord = false;
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}
