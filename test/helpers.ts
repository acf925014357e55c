import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { it } from "node:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (tests run from dist/test/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const fixtures = join(repoRoot, "test/fixtures");
const cliPath = join(repoRoot, "bin/mdetr.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, in a subprocess. */
export function runCli(args: readonly string[], options: { cwd?: string; env?: Record<string, string> } = {}): CliRun {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

export function tempDir(prefix = "mdetr-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a value as JSON; strings and bytes are written as they are (for malformed files). */
export function writeJson(dir: string, name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === "string" || value instanceof Uint8Array ? value : JSON.stringify(value));
  return path;
}

export function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

export interface GoldenCase {
  dir: string;
  name: string;
  argv: string[];
  expected: unknown;
}

/** The golden cases of one tool, copied from shared/golden (see test/fixtures/golden/README.md). */
export function goldenCases(tool: string): GoldenCase[] {
  const root = join(fixtures, "golden", tool);
  return readdirSync(root).sort().map((name) => {
    const dir = join(root, name);
    const spec = readJsonFile(join(dir, "case.json")) as { argv: string[] };
    // infer's expected output is JSON lines.
    const expected = existsSync(join(dir, "expected.json"))
      ? readJsonFile(join(dir, "expected.json"))
      : readFileSync(join(dir, "expected.jsonl"), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as unknown);
    return { dir, name, argv: spec.argv, expected };
  });
}

/** Lists every numeric leaf that differs by more than tolerance (or is missing / extra). */
export function numericDifferences(expected: unknown, actual: unknown, tolerance = 1e-6, path = ""): string[] {
  if (typeof expected === "number") {
    if (typeof actual !== "number") return [`${path}: expected ${expected}, got ${JSON.stringify(actual)}`];
    if (expected === -1 || actual === -1) return expected === actual ? [] : [`${path}: expected ${expected}, got ${actual}`];
    return Math.abs(expected - actual) <= tolerance ? [] : [`${path}: expected ${expected}, got ${actual}`];
  }
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object") return [`${path}: expected an object, got ${JSON.stringify(actual)}`];
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const keys = new Set([...Object.keys(e), ...Object.keys(a)]);
    return [...keys].flatMap((k) => (k in e ? (k in a ? numericDifferences(e[k], a[k], tolerance, `${path}.${k}`) : [`${path}.${k}: missing`]) : [`${path}.${k}: unexpected`]));
  }
  return expected === actual ? [] : [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/**
 * Runs a golden case's command line from its folder with one JSON engine forced, and returns the
 * differences between the JSON it wrote and the expected numbers (empty when they agree).
 */
export function goldenDifferences(golden: GoldenCase, engine: "parse" | "split" | "stream"): { code: number; stderr: string; differences: string[] } {
  const out = join(tempDir(), "out.json");
  const run = runCli(golden.argv.map((a) => a.replace("{out}", out)), { cwd: golden.dir, env: { MDETR_JSON_ENGINE: engine } });
  return { code: run.code, stderr: run.stderr, differences: run.code === 0 ? numericDifferences(golden.expected, readJsonFile(out)) : [] };
}

export const JSON_ENGINES = ["parse", "split", "stream"] as const;

/** Bad input: exit code 2, the expected message, one line, no stack trace. */
export function assertInputError(run: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, pattern);
  assert.equal(run.stderr.trim().split("\n").length, 1, `one line expected, got:\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace without --verbose");
}

/** One test per golden case of `tool` and JSON engine: the command's JSON equals the expected numbers. */
export function goldenSuite(tool: string): void {
  for (const golden of goldenCases(tool)) {
    for (const engine of JSON_ENGINES) {
      it(`${golden.name} (${engine} engine)`, () => {
        const { code, stderr, differences } = goldenDifferences(golden, engine);
        assert.equal(code, 0, stderr);
        assert.deepEqual(differences, []);
      });
    }
  }
}
