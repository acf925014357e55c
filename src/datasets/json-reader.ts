/**
 * One JSON reader for every command. Callers name the containers they want streamed with a small
 * JSONPath subset (`$.*`, `$.annotations.*`) and get each element as it is parsed, so no command
 * needs the whole document in memory.
 *
 * Three engines give the same visits:
 * - "parse": files under the streaming threshold are read whole and parsed with `JSON.parse`;
 * - "split": larger files (V8 cannot hold a string over 512 MiB) are split into batches of
 *   elements that `JSON.parse` reads one at a time (json-splitter.ts), 3x faster than
 * - "stream": @streamparser/json, which emits one element at a time and drops it after the visit
 *   (`keepStack: false`). It takes the shapes the splitter does not, and locates syntax errors.
 * All reject invalid UTF-8, and all surface 1e400 as Infinity for the callers' finiteness checks.
 * `MDETR_JSON_ENGINE=parse|split|stream` forces one (for tests and debugging).
 */
import { open, stat } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { JSONParser } from "@streamparser/json";
import { InputError, UsageError } from "../errors.js";
import { splitJson, SplitSyntaxError, UnsupportedShape } from "./json-splitter.js";

export type JsonKey = string | number;
/** Called once per element of a selected container, in document order. */
export type JsonVisitor = (value: unknown, key: JsonKey) => void;
export type ContainerKind = "array" | "object" | "other" | "missing";

export interface JsonReadResult {
  /** Kind of the container each selector iterated over (`$` for `$.*`, `$.images` for `$.images.*`). */
  containers: Map<string, ContainerKind>;
  engine: JsonEngine;
}

export type JsonEngine = "parse" | "split" | "stream";

/** Files at least this large are streamed. */
export const STREAM_THRESHOLD = 64 * 1024 * 1024;

function chooseEngine(size: number): JsonEngine {
  const forced = process.env["MDETR_JSON_ENGINE"];
  if (forced === "parse" || forced === "split" || forced === "stream") return forced;
  return size < STREAM_THRESHOLD ? "parse" : "split";
}

interface Selector {
  /** `$.images.*` -> container `$.images`, segments ["images"]. */
  container: string;
  segments: string[];
  visit: JsonVisitor;
}

function parseSelectors(select: Record<string, JsonVisitor>): Selector[] {
  return Object.entries(select).map(([path, visit]) => {
    const parts = path.split(".");
    if (parts[0] !== "$" || parts[parts.length - 1] !== "*" || parts.slice(1, -1).includes("*")) {
      throw new Error(`unsupported selector ${path}: use $.*, $.key.* or $.a.b.*`);
    }
    const segments = parts.slice(1, -1);
    return { container: ["$", ...segments].join("."), segments, visit };
  });
}

function kindOf(value: unknown): ContainerKind {
  if (Array.isArray(value)) return "array";
  if (value !== null && typeof value === "object") return "object";
  return "other";
}

/** Reads `file`, calling each selector's visitor for every element of its container. */
export async function readJson(file: string, select: Record<string, JsonVisitor>): Promise<JsonReadResult> {
  const selectors = parseSelectors(select);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (size === 0) throw new InputError(file, undefined, "file is empty, expected JSON");
  const engine = chooseEngine(size);
  if (engine === "parse") return parseWhole(file, selectors);
  if (engine === "split") {
    const splittable = selectors.every((s) => s.segments.length <= 1);
    if (splittable) return parseSplit(file, selectors);
  }
  return parseStreaming(file, selectors);
}

async function parseSplit(file: string, selectors: Selector[]): Promise<JsonReadResult> {
  let visits = 0;
  const counted = selectors.map((s) => ({
    rootKey: s.segments[0],
    visit: (value: unknown, key: JsonKey) => {
      visits++;
      s.visit(value, key);
    },
  }));
  try {
    return { containers: await splitJson(file, counted), engine: "split" };
  } catch (error) {
    if (error instanceof UnsupportedShape) {
      if (visits === 0) return parseStreaming(file, selectors);
      throw new InputError(file, undefined, `cannot stream this file: ${error.message}`);
    }
    if (!(error instanceof SplitSyntaxError)) throw error;
    // The splitter knows the file is broken, not where: let the library find the place.
    await streamPass(file, selectors.map((s) => `${s.container}.*`), () => undefined, () => {});
    throw new InputError(file, undefined, `invalid JSON: ${error.message}`);
  }
}

async function parseWhole(file: string, selectors: Selector[]): Promise<JsonReadResult> {
  const handle = await open(file, "r");
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(file, undefined, `not valid UTF-8 (first bad byte near offset ${firstInvalidUtf8(bytes)})`);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw new InputError(file, undefined, describeSyntaxError(bytes));
  }
  const containers = new Map<string, ContainerKind>();
  for (const selector of selectors) {
    let node: unknown = root;
    for (const segment of selector.segments) {
      node = node !== null && typeof node === "object" && !Array.isArray(node) ? (node as Record<string, unknown>)[segment] : undefined;
    }
    const kind = node === undefined ? "missing" : kindOf(node);
    containers.set(selector.container, kind);
    if (kind === "array") (node as unknown[]).forEach((value, index) => selector.visit(value, index));
    else if (kind === "object") for (const [key, value] of Object.entries(node as object)) selector.visit(value, key);
  }
  return { containers, engine: "parse" };
}

/**
 * The library's messages name its internal parser state and, for bad characters, the absolute
 * position; keep what a user needs: the token and where it is.
 */
function syntaxProblem(error: unknown, parser: JSONParser): { message: string; offset: number | undefined } {
  const raw = error instanceof Error ? error.message : String(error);
  if (/ended in mid-parsing/.test(raw)) return { message: "unexpected end of file", offset: undefined };
  const absolute = /absolute position "(\d+)"/.exec(raw);
  const message = raw
    .replace(/\s+at chunk position "\d+" \(absolute position "\d+"\)/, "")
    .replace(/\s+in state \w+\.?/, "")
    .replace(/\s+/g, " ")
    .trim();
  return { message, offset: absolute ? Number(absolute[1]) : failureOffset(parser) };
}

/** Byte offset where the tokenizer stopped (a private field of the library; undefined if it moves). */
function failureOffset(parser: JSONParser): number | undefined {
  const offset = (parser as unknown as { tokenizer?: { offset?: unknown } }).tokenizer?.offset;
  return typeof offset === "number" && offset >= 0 ? offset : undefined;
}

/**
 * V8's JSON.parse messages carry no reliable position (and quote the input); re-run the file
 * through the streaming tokenizer to say where the syntax breaks, as line and column.
 */
function describeSyntaxError(bytes: Uint8Array): string {
  const parser = new JSONParser({ paths: [], keepStack: false });
  try {
    parser.write(bytes);
    if (!parser.isEnded) parser.end();
  } catch (error) {
    const { message, offset } = syntaxProblem(error, parser);
    if (offset === undefined) return `invalid JSON: ${message}`;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) (line++, (lineStart = i + 1));
    return `invalid JSON at line ${line}, column ${offset - lineStart + 1}: ${message}`;
  }
  return "invalid JSON";
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  // Find the failing 64 KiB block, then step through it byte by byte from a decoder primed with
  // everything before it (the error can only surface at or after the bad byte).
  const block = 1 << 16;
  const scan = new TextDecoder("utf-8", { fatal: true });
  let start = 0;
  try {
    for (; start < bytes.length; start += block) scan.decode(bytes.subarray(start, start + block), { stream: true });
    return bytes.length;
  } catch {
    const primed = new TextDecoder("utf-8", { fatal: true });
    primed.decode(bytes.subarray(0, start), { stream: true });
    for (let i = start; i < bytes.length; i++) {
      try {
        primed.decode(bytes.subarray(i, i + 1), { stream: true });
      } catch {
        return i;
      }
    }
    return bytes.length;
  }
}

async function parseStreaming(file: string, selectors: Selector[]): Promise<JsonReadResult> {
  const containers = new Map<string, ContainerKind>(selectors.map((s) => [s.container, "missing"]));
  const byDepth = new Map<number, Selector[]>();
  for (const selector of selectors) {
    const depth = selector.segments.length + 1;
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), selector]);
  }
  // Errors thrown by visitors pass through the parser; everything else it throws is bad JSON.
  let visitorError: unknown;
  await streamPass(file, selectors.map((s) => `${s.container}.*`), () => visitorError, ({ value, key, parent, stack }) => {
    // stack[0] is the root; stack[i].key for i >= 1 are the keys down to this value's parent.
    for (const selector of byDepth.get(stack.length) ?? []) {
      if (!selector.segments.every((segment, i) => stack[i + 1]?.key === segment)) continue;
      containers.set(selector.container, Array.isArray(parent) ? "array" : "object");
      try {
        selector.visit(value, key as JsonKey);
      } catch (error) {
        visitorError = error;
        throw error;
      }
      return;
    }
  });
  // A container with no elements is empty, missing or not a container. Selecting a container
  // itself makes the library keep all its elements, so ask for it only now, when it holds none.
  const unresolved = [...containers].filter(([, kind]) => kind === "missing").map(([path]) => path);
  if (unresolved.length > 0) {
    await streamPass(file, unresolved, () => undefined, ({ value, key, stack }) => {
      const path = ["$", ...stack.slice(1).map((s) => String(s.key)), ...(key === undefined ? [] : [String(key)])].join(".");
      if (containers.has(path)) containers.set(path, kindOf(value));
    });
  }
  return { containers, engine: "stream" };
}

type OnValue = NonNullable<JSONParser["onValue"]>;

/** One pass of @streamparser/json over the file, checking UTF-8 on the way. */
async function streamPass(file: string, paths: string[], passThrough: () => unknown, onValue: OnValue): Promise<void> {
  const parser = new JSONParser({ paths, keepStack: false });
  parser.onValue = onValue;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = 0;
  let first = true;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      let data: Buffer = chunk;
      if (first && data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) data = data.subarray(3);
      first = false;
      try {
        decoder.decode(data, { stream: true });
      } catch {
        throw new InputError(file, undefined, `not valid UTF-8 (in the bytes after offset ${offset})`);
      }
      parser.write(data);
      offset += chunk.length;
    }
    try {
      decoder.decode();
    } catch {
      throw new InputError(file, undefined, "not valid UTF-8 (truncated character at the end)");
    }
    if (!parser.isEnded) parser.end();
  } catch (error) {
    if (error === passThrough() || error instanceof InputError) throw error;
    const { message, offset: at } = syntaxProblem(error, parser);
    throw new InputError(file, undefined, `invalid JSON${at === undefined ? "" : ` at byte ${at}`}: ${message}`);
  }
}
