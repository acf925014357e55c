import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, it } from "node:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { JsonEngine } from "../src/json/reader.js";
import { InputError } from "../src/core/errors.js";

/** Repository root (tests run from dist/test/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const fixtures = join(repoRoot, "test/fixtures");
const cliPath = join(repoRoot, "bin/mdetr.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
}

/**
 * Runs `mdetr ARGS` in this process through the CLI's own entry point (`main` with captured
 * stdout and stderr): the same parsing, exit codes and messages as the binary, without a
 * Node start-up per test. `cwd` is entered for the call, since golden cases use relative paths.
 */
export async function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  // Loaded on first use: the unit-test files that never run a command do not pay for the CLI.
  const { main } = await import("../src/cli/main.js");
  let stdout = "";
  let stderr = "";
  const previous = process.cwd();
  if (options.cwd) process.chdir(options.cwd);
  try {
    const code = await main(args, {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: { ...process.env, ...options.env },
    });
    return { code, stdout, stderr };
  } finally {
    process.chdir(previous);
  }
}

/** Runs the built binary (bin/mdetr.js) in a subprocess, as a user would: for the smoke tests. */
export function runBinary(args: readonly string[], options: RunOptions = {}): CliRun {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

const made: string[] = [];
// Every folder a test made goes when the test file is done.
after(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = "mdetr-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
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

/** The golden metrics agree to 1e-13 today; 1e-9 leaves room for summation order, nothing more. */
export const GOLDEN_TOLERANCE = 1e-9;

/** The metrics of a `--json` result: everything but its `meta` block. */
export function metricsOf(json: unknown): unknown {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return json;
  const { meta: _meta, ...metrics } = json as Record<string, unknown>;
  return metrics;
}

/** Lists every numeric leaf that differs by more than tolerance (or is missing / extra). */
export function numericDifferences(expected: unknown, actual: unknown, tolerance = GOLDEN_TOLERANCE, path = ""): string[] {
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

export const JSON_ENGINES: readonly JsonEngine[] = ["parse", "split", "stream"];

/** How a golden case is read: an engine forced, and with `tinyBatches` the splitter cut every few bytes. */
export interface GoldenReading {
  engine: JsonEngine;
  tinyBatches?: boolean;
}

/** Each engine, and the splitter with batches cut every 7 bytes (so that every batch boundary is exercised). */
export const GOLDEN_READINGS: readonly GoldenReading[] = [...JSON_ENGINES.map((engine) => ({ engine })), { engine: "split", tinyBatches: true }];

export function readingName(reading: GoldenReading): string {
  return `${reading.engine} engine${reading.tinyBatches ? ", 7-byte batches" : ""}`;
}

export function readingEnv(reading: GoldenReading): Record<string, string> {
  return { MDETR_JSON_ENGINE: reading.engine, ...(reading.tinyBatches ? { MDETR_JSON_BATCH_BYTES: "7" } : {}) };
}

/**
 * Runs a golden case's command line from its folder with one JSON engine forced, and returns the
 * differences between the metrics it wrote and the expected numbers (empty when they agree), and
 * the engine each input was read with (from the run's meta).
 */
export async function goldenDifferences(golden: GoldenCase, reading: GoldenReading, tolerance = GOLDEN_TOLERANCE): Promise<{ code: number; stderr: string; differences: string[]; json: unknown }> {
  const out = join(tempDir(), "out.json");
  const run = await runCli(golden.argv.map((a) => a.replace("{out}", out)), { cwd: golden.dir, env: readingEnv(reading) });
  if (run.code !== 0) return { code: run.code, stderr: run.stderr, differences: [], json: undefined };
  const json = readJsonFile(out);
  return { code: run.code, stderr: run.stderr, differences: numericDifferences(golden.expected, metricsOf(json), tolerance), json };
}

/** Bad input: exit code 2, the expected message, one line, no stack trace. */
export function assertInputError(run: { code: number; stderr: string }, pattern: RegExp): void {
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, pattern);
  assert.equal(run.stderr.trim().split("\n").length, 1, `one line expected, got:\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace without --verbose");
}

/** The engine meta.inputs says each JSON input was read with. */
export function enginesOf(json: unknown): string[] {
  const inputs = ((json as { meta?: { inputs?: Record<string, unknown> } }).meta?.inputs ?? {}) as Record<string, unknown>;
  return Object.values(inputs)
    .flat()
    .flatMap((input) => (input && typeof input === "object" && "reader" in input ? [String((input as { reader: unknown }).reader)] : []));
}

/**
 * One test per golden case of `tool` and JSON engine, plus one with the splitter's batches cut
 * every 7 bytes: the command's JSON equals the expected numbers, read by the engine asked for.
 */
/** `tolerance`: 0 where the tool gives the reference's doubles exactly (LVIS sums as numpy does). */
export function goldenSuite(tool: string, tolerance = GOLDEN_TOLERANCE): void {
  for (const golden of goldenCases(tool)) {
    for (const reading of GOLDEN_READINGS) {
      it(`${golden.name} (${readingName(reading)})`, async () => {
        const { code, stderr, differences, json } = await goldenDifferences(golden, reading, tolerance);
        assert.equal(code, 0, stderr);
        assert.deepEqual(differences, []);
        const engines = enginesOf(json);
        assert.ok(engines.length > 0, "meta.inputs names the reader of each JSON input");
        for (const engine of engines) assert.equal(engine, reading.engine);
      });
    }
  }
}

/** A small LCG, so that every run sees the same random cases. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** What a reader gave with one engine: its value, or the error it threw. */
export type EngineOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * `text` written to a temporary `name` and read twice by `read`: with JSON.parse whole ("parse")
 * and with the splitter at `batchBytes` ("split"), whose fast paths must keep the same and refuse
 * the same.
 */
export async function readWithBothEngines<T>(
  name: string,
  text: string | Buffer,
  batchBytes: number,
  read: (file: string, settings: { engine: "parse" | "split"; batchBytes: number }) => Promise<T>,
): Promise<{ parse: EngineOutcome<T>; split: EngineOutcome<T> }> {
  const file = join(tempDir(), name);
  writeFileSync(file, text);
  const outcome = (engine: "parse" | "split") => read(file, { engine, batchBytes }).then(
    (value): EngineOutcome<T> => ({ ok: true, value }),
    (error: unknown): EngineOutcome<T> => ({ ok: false, error }),
  );
  return { parse: await outcome("parse"), split: await outcome("split") };
}

/** Both engines refused with the same InputError message, and it names `place`. */
export function assertSameRefusal<T>({ parse, split }: { parse: EngineOutcome<T>; split: EngineOutcome<T> }, label: string, place: RegExp): void {
  assert.ok(!parse.ok && !split.ok, label);
  assert.ok(split.error instanceof InputError && parse.error instanceof InputError, label);
  assert.equal(split.error.message, parse.error.message, label);
  assert.match(split.error.message, place, label);
}
