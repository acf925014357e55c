/**
 * The `infer` outputs: a JSONL file whose first line is a header with the run's settings, then one
 * line per image, written as it goes so that `--resume` can continue an interrupted run (and refuse
 * one made with other settings); and a COCO results list with its images mapping.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { readFile, truncate } from "node:fs/promises";
import { once } from "node:events";
import { writeFileAtomic } from "../../core/atomic-write.js";
import { InputError } from "../../core/errors.js";
import { box4Problem, describeJsonValue, finiteNumberProblem, isRecord } from "../../json/validate.js";

/** The first line of the JSONL: `{"header": {...}}` (it has no `file`, so record readers skip it). */
export interface InferHeader {
  tool: string;
  version: string;
  command: string;
  /** What decides the numbers: model, tokenizer, prompts, thresholds, scoring, preprocessing. */
  settings: Record<string, unknown>;
}

export interface InferDetection {
  bbox: [number, number, number, number];
  score: number;
  spans: [number, number][];
  phrase: string;
}

/** One line per image: its detections, or why it could not be read. */
export type InferRecord = { file: string; width: number; height: number; text: string; detections: InferDetection[] } | { file: string; error: string };

export interface InferJsonl {
  /** Undefined when the file has no header line (written before there was one). */
  header: InferHeader | undefined;
  records: InferRecord[];
  /** Bytes of the complete lines; anything after them is a torn last line (no newline). */
  completeBytes: number;
  totalBytes: number;
}

/** The file's header and records, each line checked; undefined when the file does not exist. */
export async function readInferJsonl(path: string): Promise<InferJsonl | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  // Complete lines end with a newline; a last line without one was torn by an interrupted run.
  const completeBytes = bytes.lastIndexOf(0x0a) + 1;
  return { ...parseInferJsonl(path, bytes.subarray(0, completeBytes).toString("utf8")), completeBytes, totalBytes: bytes.length };
}

/** Cuts off a torn last line, so that appended lines start on a line of their own. */
export async function cutTornLine(path: string, jsonl: InferJsonl): Promise<void> {
  if (jsonl.completeBytes < jsonl.totalBytes) await truncate(path, jsonl.completeBytes);
}

/** Complete JSONL text to its header and records; a damaged line is an InputError naming it. */
export function parseInferJsonl(file: string, text: string): Pick<InferJsonl, "header" | "records"> {
  let header: InferHeader | undefined;
  const records: InferRecord[] = [];
  let first = true;
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    const where = `line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(file, where, `not valid JSON: ${(error as Error).message}`);
    }
    if (isRecord(value) && "header" in value) {
      if (!first) throw new InputError(file, where, "a header after the first line (only the first line holds one)");
      header = checkHeader(file, where, value["header"]);
    } else {
      records.push(checkRecord(file, where, value));
    }
    first = false;
  }
  return { header, records };
}

function checkHeader(file: string, where: string, value: unknown): InferHeader {
  const fail = (problem: string): never => {
    throw new InputError(file, where, `header${problem}`);
  };
  if (!isRecord(value)) return fail(`: expected an object, got ${describeJsonValue(value)}`);
  for (const key of ["tool", "version", "command"] as const) {
    if (typeof value[key] !== "string") fail(`.${key}: expected a string, got ${describeJsonValue(value[key])}`);
  }
  if (!isRecord(value["settings"])) fail(`.settings: expected an object, got ${describeJsonValue(value["settings"])}`);
  return value as unknown as InferHeader;
}

function checkRecord(file: string, where: string, value: unknown): InferRecord {
  const fail = (problem: string): never => {
    throw new InputError(file, where, problem);
  };
  if (!isRecord(value)) return fail(`expected an image record, got ${describeJsonValue(value)}`);
  const string = (key: string) => {
    if (typeof value[key] !== "string") fail(`${key}: expected a string, got ${describeJsonValue(value[key])}`);
  };
  const finite = (key: string, x: unknown) => {
    const problem = finiteNumberProblem(x);
    if (problem) fail(`${key}: ${problem}`);
  };
  string("file");
  if ("error" in value) {
    string("error");
    return value as InferRecord;
  }
  finite("width", value["width"]);
  finite("height", value["height"]);
  string("text");
  const detections = value["detections"];
  if (!Array.isArray(detections)) return fail(`detections: expected an array, got ${describeJsonValue(detections)}`);
  for (const [d, detection] of (detections as unknown[]).entries()) {
    const at = `detections[${d}]`;
    if (!isRecord(detection)) return fail(`${at}: expected an object, got ${describeJsonValue(detection)}`);
    const boxProblem = box4Problem(detection["bbox"]);
    if (boxProblem) fail(`${at}.bbox: ${boxProblem}`);
    finite(`${at}.score`, detection["score"]);
    const spans = detection["spans"];
    if (!Array.isArray(spans)) return fail(`${at}.spans: expected an array, got ${describeJsonValue(spans)}`);
    for (const [s, span] of (spans as unknown[]).entries()) {
      if (!Array.isArray(span) || span.length !== 2 || !span.every((x) => Number.isSafeInteger(x))) fail(`${at}.spans[${s}]: expected [begin, end] integers, got ${describeJsonValue(span)}`);
    }
    if (typeof detection["phrase"] !== "string") fail(`${at}.phrase: expected a string, got ${describeJsonValue(detection["phrase"])}`);
  }
  return value as unknown as InferRecord;
}

/**
 * The settings that differ between an earlier header and this run, one `name old vs new` each.
 * Leaves are compared by stable JSON (a list is one leaf); a file is `{path, sha256}` and is the
 * same file when the hash is, wherever it was named from.
 */
export function settingsDifferences(earlier: Record<string, unknown>, now: Record<string, unknown>): string[] {
  const a = settingLeaves(earlier);
  const b = settingLeaves(now);
  const differences: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name);
    const y = b.get(name);
    if (x?.key !== y?.key) differences.push(`${name} ${x?.shown ?? "(none)"} vs ${y?.shown ?? "(none)"}`);
  }
  return differences;
}

function settingLeaves(settings: Record<string, unknown>, prefix = "", leaves = new Map<string, { key: string; shown: string }>()): Map<string, { key: string; shown: string }> {
  for (const [name, value] of Object.entries(settings)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (isRecord(value) && typeof value["sha256"] === "string") {
      leaves.set(path, { key: value["sha256"], shown: `${typeof value["path"] === "string" ? value["path"] : "?"} (sha256 ${value["sha256"].slice(0, 12)})` });
    } else if (isRecord(value)) {
      settingLeaves(value, path, leaves);
    } else {
      const key = stableJson(value);
      leaves.set(path, { key, shown: key });
    }
  }
  return leaves;
}

/** JSON with object keys sorted, so that key order never makes two settings differ. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (isRecord(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

export class JsonlWriter {
  private constructor(private readonly out: WriteStream) {}

  static async open(path: string, append: boolean): Promise<JsonlWriter> {
    const out = createWriteStream(path, { flags: append ? "a" : "w" });
    await once(out, "open");
    return new JsonlWriter(out);
  }

  async write(record: unknown): Promise<void> {
    if (!this.out.write(`${JSON.stringify(record)}\n`)) await once(this.out, "drain");
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, "finish");
  }
}

export interface CocoImage {
  id: number;
  file_name: string;
  width: number;
  height: number;
}

export interface CocoDetection {
  image_id: number;
  category_id: number;
  bbox: [number, number, number, number];
  score: number;
}

/** `results.json` (COCO results) and `results.images.json` (id -> file, and the categories). */
export async function writeCocoResults(path: string, images: CocoImage[], detections: CocoDetection[], categories: { id: number; name: string }[]): Promise<string> {
  const mapping = path.replace(/(\.json)?$/i, ".images.json");
  await writeFileAtomic(path, [JSON.stringify(detections)]);
  await writeFileAtomic(mapping, [JSON.stringify({ images, categories })]);
  return mapping;
}
