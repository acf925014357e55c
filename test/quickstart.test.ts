// Runs every command of the README's "## Quick start" section and checks it prints what the README says.
//
// The section holds pairs of fenced blocks: a ```sh block with one `npx mdetr ...` command line
// (continued with trailing backslashes if long), then a ```text block with its exact stdout.
// Commands run from the repository root through the CLI's entry point, main(), in this process. Output files go under
// /tmp/mdetr-quickstart/ in the README; the test maps that folder to a fresh temporary folder of its
// own (so that two checkouts can run their tests at once) and maps it back in stdout.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "./helpers.js";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SECTION = "## Quick start";
const OUT_PLACEHOLDER = "/tmp/mdetr-quickstart";

interface FencedBlock {
  info: string;
  body: string;
  /** 1-based line of the opening fence in README.md. */
  line: number;
  /** Index of the block's opening and closing fence lines in the section. */
  start: number;
  end: number;
}

interface QuickstartCommand {
  line: number;
  command: string;
  args: string[];
  expected: string;
}

/** The lines of the "## Quick start" section (heading excluded), and the README line it starts on. */
function quickstartSection(readme: string): { lines: string[]; firstLine: number } {
  const lines = readme.split(/\r?\n/);
  let fence: string | null = null;
  let start = -1;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] ?? "";
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (marker) {
      const run = marker[1] ?? "";
      if (fence === null) fence = run;
      else if (run[0] === fence[0] && run.length >= fence.length && text.trim() === run) fence = null;
      continue;
    }
    if (fence !== null) continue;
    if (start < 0) {
      if (text.trimEnd() === SECTION) start = i + 1;
    } else if (/^#{1,2}\s/.test(text)) {
      return { lines: lines.slice(start, i), firstLine: start + 1 };
    }
  }
  if (start < 0) throw new Error(`README.md has no "${SECTION}" section`);
  return { lines: lines.slice(start), firstLine: start + 1 };
}

/** The fenced code blocks of some Markdown lines (CommonMark fences: ``` or ~~~, up to 3 spaces of indent). */
function fencedBlocks(lines: string[], firstLine: number): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i] ?? "");
    if (!open) continue;
    const indent = (open[1] ?? "").length;
    const fence = open[2] ?? "";
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const text = lines[j] ?? "";
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(text);
      const run = close?.[1];
      if (run !== undefined && run[0] === fence[0] && run.length >= fence.length) break;
      body.push(text.replace(new RegExp(`^ {0,${indent}}`), ""));
    }
    if (j >= lines.length) throw new Error(`README.md:${firstLine + i}: unclosed code block`);
    blocks.push({ info: open[3] ?? "", body: body.join("\n"), line: firstLine + i, start: i, end: j });
    i = j;
  }
  return blocks;
}

/**
 * Splits one shell command line into words: 'single' and "double" quotes, backslash escapes and
 * backslash-newline continuations. Anything that would need a real shell (pipes, redirections,
 * variables, globs, comments, several commands) is refused rather than misread.
 */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? "";
    if (c === "\\") {
      const next = line[i + 1];
      if (next === undefined) throw new Error(`trailing backslash in: ${line}`);
      i++;
      if (next === "\n") continue; // line continuation
      word += next;
      inWord = true;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      word += line.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const d = line[j] ?? "";
        if (d === "$" || d === "`") throw new Error(`${d} inside double quotes is not supported: ${line}`);
        if (d === "\\") {
          const next = line[j + 1] ?? "";
          if (next === "\n") { j++; continue; }
          if (next === '"' || next === "\\" || next === "$" || next === "`") { word += next; j++; continue; }
        }
        word += d;
      }
      if (j >= line.length) throw new Error(`unclosed " in: ${line}`);
      inWord = true;
      i = j;
    } else if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else if (c === "\n") {
      throw new Error(`one command per block (a new line without a trailing backslash) in: ${line}`);
    } else if ("|&;<>()$`*?[]{}~".includes(c) || (c === "#" && !inWord)) {
      throw new Error(`shell syntax ${JSON.stringify(c)} is not supported, quote it: ${line}`);
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Lines with trailing whitespace removed, and trailing blank lines dropped. */
function normalise(text: string): string {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.join("\n");
}

function quickstartCommands(readme: string): QuickstartCommand[] {
  const { lines, firstLine } = quickstartSection(readme);
  const blocks = fencedBlocks(lines, firstLine);
  const commands: QuickstartCommand[] = [];
  for (let b = 0; b < blocks.length; b++) {
    const block = blocks[b];
    if (block === undefined || block.info !== "sh") continue;
    const next = blocks[b + 1];
    const between = next === undefined ? [] : lines.slice(block.end + 1, next.start);
    if (next === undefined || next.info !== "text" || between.some((l) => l.trim() !== "")) {
      throw new Error(`README.md:${block.line}: a \`\`\`sh block must be followed at once by a \`\`\`text block with its stdout`);
    }
    const command = block.body.trim();
    const words = shellWords(command);
    if (words[0] !== "npx" || words[1] !== "mdetr" || !/^npx\s+mdetr\s/.test(command)) {
      throw new Error(`README.md:${block.line}: the command must begin with "npx mdetr ": ${command}`);
    }
    commands.push({ line: block.line, command, args: words.slice(2), expected: next.body });
  }
  if (commands.length === 0) throw new Error(`README.md: the "${SECTION}" section has no \`\`\`sh commands`);
  return commands;
}

describe("quick start shell-words splitter", () => {
  it("splits quotes, escapes and continuations", () => {
    assert.deepEqual(shellWords(`npx mdetr a 'b c' "d \\"e\\"" f\\ g \\\n  --h`), ["npx", "mdetr", "a", "b c", 'd "e"', "f g", "--h"]);
    assert.deepEqual(shellWords(`x ''`), ["x", ""]);
  });
  it("refuses what needs a real shell", () => {
    for (const line of ["a | b", "a > f", "a $HOME", "a\nb", "a 'b", "a # c"]) assert.throws(() => shellWords(line), line);
  });
});

describe("README quick start", () => {
  let commands: QuickstartCommand[] = [];
  let problem: unknown = null;
  try {
    commands = quickstartCommands(readFileSync(join(repoRoot, "README.md"), "utf8"));
  } catch (error) {
    problem = error;
  }

  if (problem !== null) {
    it("has a Quick start section with commands", () => {
      throw problem;
    });
    return;
  }

  let outDir = "";
  before(() => {
    outDir = mkdtempSync(join(tmpdir(), "mdetr-quickstart-"));
  });
  after(() => {
    if (outDir !== "") rmSync(outDir, { recursive: true, force: true });
  });

  for (const { line, command, args, expected } of commands) {
    it(`README.md:${line}: ${command.replace(/\s*\\\n\s*/g, " ")}`, async () => {
      const argv = args.map((a) => a.split(OUT_PLACEHOLDER).join(outDir));
      // In-process, through the binary's own entry point (test/smoke.test.ts runs the binary itself).
      const run = await runCli(argv, { cwd: repoRoot });
      const stdout = run.stdout.split(outDir).join(OUT_PLACEHOLDER);
      const stderr = run.stderr.split(outDir).join(OUT_PLACEHOLDER);
      assert.equal(run.code, 0, `exit code ${run.code}; stderr:\n${stderr}`);
      assert.equal(normalise(stdout), normalise(expected), `stdout differs from the README's text block; stderr:\n${stderr}`);
    });
  }
});
