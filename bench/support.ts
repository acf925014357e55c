/** Shared bench plumbing: a seeded generator, streaming file writes, and timing a CLI run. */
import { spawn } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { once } from "node:events";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** mulberry32: a small seeded PRNG, so every bench run sees the same data. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How a bench writes predicted numbers (`--numbers`): `short`, rounded to 1-6 decimals (the
 * benches' figures so far), or `float32`, float32 values as Python's json writes them, which is
 * what real results files hold (MDETR and detectron2 write `.tolist()` of float32 tensors:
 * `186.2591094970703`, 16-17 digits, three times the bytes and past every parser's fast path).
 */
export type NumberStyle = "short" | "float32";

export function numberStyle(value: string | undefined): NumberStyle {
  if (value === "short" || value === "float32") return value;
  throw new Error(`--numbers: expected short or float32, got ${value}`);
}

/** A predicted number as `style` writes it: rounded to `decimals`, or the nearest float32. */
export function predicted(style: NumberStyle, x: number, decimals: number): number {
  if (style === "float32") return Math.fround(x);
  const scale = 10 ** decimals;
  return Math.round(x * scale) / scale;
}

/** Writes pieces produced by `parts` to `path`, respecting back-pressure; returns the byte count. */
export async function writeStreamed(path: string, parts: Iterable<string>): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let pending = "";
  for (const part of parts) {
    pending += part;
    if (pending.length > 1 << 20) {
      bytes += Buffer.byteLength(pending);
      if (!out.write(pending)) await once(out, "drain");
      pending = "";
    }
  }
  bytes += Buffer.byteLength(pending);
  out.end(pending);
  await once(out, "finish");
  return bytes;
}

export interface CliMeasurement {
  /** The fastest run's wall time, and every run's in order. */
  seconds: number;
  runs: number[];
  peakRssMiB: number;
  /** The command's --verbose lines (phase timings). */
  log: string[];
}

/**
 * Runs `mdetr --verbose ...args` in a fresh process and reads its own peak RSS report; with
 * `runs` > 1, the fastest of that many runs (this machine's timings are noisy: the best is the
 * steadiest figure, and the floor is taken the same way).
 */
export async function measureCli(args: string[], runs = 1): Promise<CliMeasurement> {
  let best: CliMeasurement | undefined;
  const all: number[] = [];
  for (let r = 0; r < runs; r++) {
    const m = await measureOnce(args);
    all.push(m.seconds);
    if (!best || m.seconds < best.seconds) best = m;
  }
  return { ...best!, runs: all };
}

async function measureOnce(args: string[]): Promise<CliMeasurement> {
  const started = performance.now();
  const child = spawn(process.execPath, [join(repoRoot, "bin/mdetr.js"), "--verbose", ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code] = (await once(child, "exit")) as [number];
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`mdetr exited with ${code}:\n${stderr}`);
  const peak = /peak RSS (\d+) MiB/.exec(stderr);
  return { seconds, runs: [seconds], peakRssMiB: peak ? Number(peak[1]) : NaN, log: stderr.trim().split("\n") };
}

/** Prints "  label: N s wall, peak RSS M MiB" and the command's phase lines that match. */
export function printMeasurement(label: string, m: CliMeasurement, dir: string, phases = /\(\d+\.\d+ s\)$/, suffix = ""): void {
  console.log(`  ${label}: ${m.seconds.toFixed(2)} s wall, peak RSS ${m.peakRssMiB} MiB${suffix}`);
  for (const line of m.log.filter((l) => phases.test(l))) console.log(`    ${line.replaceAll(dir + "/", "")}`);
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

/** Runs `body` in a fresh temporary folder, removed afterwards unless `keep` (then its path is printed). */
export async function withBenchDir(name: string, keep: boolean | undefined, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `mdetr-bench-${name}-`));
  try {
    await body(dir);
  } finally {
    if (keep) console.log(`  data kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * JSON.parse of the files, each read whole, in a fresh process: the floor any JSON reader pays.
 * The fastest of `runs` (JSON.parse's time swings with the collector: 1.25-2.7 s on one file).
 */
export async function parseFloor(files: string[], dir: string, runs = 3): Promise<number> {
  return (await parseFloors(files, dir, runs)).parse;
}

/**
 * parseFloor, and the same process's wall time from spawn to exit (`endToEnd`): what a command
 * that did nothing but JSON.parse its inputs would take, Node's start-up included, as a command's
 * own wall time does. Each the fastest of `runs`.
 */
export async function parseFloors(files: string[], dir: string, runs = 3): Promise<{ parse: number; endToEnd: number }> {
  const script = join(dir, "floor-parse.mjs");
  writeFileSync(script, `import { readFileSync } from "node:fs";\nconst t = performance.now();\nfor (const f of ${JSON.stringify(files)}) JSON.parse(readFileSync(f, "utf8"));\nconsole.log((performance.now() - t) / 1000);\n`);
  let parse = Infinity;
  let endToEnd = Infinity;
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    await once(child, "exit");
    endToEnd = Math.min(endToEnd, (performance.now() - started) / 1000);
    parse = Math.min(parse, Number(out.trim()));
  }
  return { parse, endToEnd };
}
