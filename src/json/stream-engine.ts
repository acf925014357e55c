/**
 * The @streamparser/json engine: one element at a time, each dropped after its visit
 * (`keepStack: false`), for shapes the splitter does not take; and the tool that says where a
 * syntax error is, for every engine.
 */
import { createReadStream } from "node:fs";
import { JSONParser } from "@streamparser/json";
import { InputError, childPath } from "../core/errors.js";
import type { ChunkHash } from "../core/inputs.js";
import { kindOf, REPEATED_KEY, RepeatedKey, type ContainerKind, type JsonKey, type Selector } from "./selectors.js";

export async function parseStreaming(file: string, selectors: Selector[], hash?: ChunkHash, keep: readonly string[] = []): Promise<{ containers: Map<string, ContainerKind>; values: Map<string, unknown> }> {
  const containers = new Map<string, ContainerKind>(selectors.map((s) => [s.container, "missing"]));
  const values = new Map<string, unknown>();
  const kept = new Set(keep);
  const byDepth = new Map<number, Selector[]>();
  for (const selector of selectors) {
    const depth = selector.segments.length + 1;
    byDepth.set(depth, [...(byDepth.get(depth) ?? []), selector]);
  }
  // Errors thrown by visitors pass through the parser; everything else it throws is bad JSON.
  let visitorError: unknown;
  const parents = new Map<Selector, unknown>();
  const memberKeys = new Map<Selector, Set<string>>();
  await streamPass(file, [...selectors.map((s) => `${s.container}.*`), ...keep.map((key) => `$.${key}`)], () => visitorError, ({ value, key, parent, stack }) => {
    if (stack.length === 1 && typeof key === "string" && kept.has(key) && !Array.isArray(parent)) {
      values.set(key, value);
      return;
    }
    // stack[0] is the root; stack[i].key for i >= 1 are the keys down to this value's parent.
    for (const selector of byDepth.get(stack.length) ?? []) {
      if (!selector.segments.every((segment, i) => stack[i + 1]?.key === segment)) continue;
      containers.set(selector.container, Array.isArray(parent) ? "array" : "object");
      try {
        refuseRepeats(selector, parent, key as JsonKey, parents, memberKeys);
        selector.visit(value, key as JsonKey);
      } catch (error) {
        visitorError = error;
        throw error;
      }
      return;
    }
  }, hash);
  // A container with no elements is empty, missing or not a container. Selecting a container
  // itself makes the library keep all its elements, so ask for it only now, when it holds none.
  const unresolved = [...containers].filter(([, kind]) => kind === "missing").map(([path]) => path);
  if (unresolved.length > 0) {
    await streamPass(file, unresolved, () => undefined, ({ value, key, stack }) => {
      const path = ["$", ...stack.slice(1).map((s) => String(s.key)), ...(key === undefined ? [] : [String(key)])].join(".");
      if (containers.has(path)) containers.set(path, kindOf(value));
    });
  }
  return { containers, values };
}

/** "line 3, column 14" for a byte offset, counting newlines on a second read of the file. */
async function describePosition(file: string, offset: number): Promise<string> {
  let line = 1;
  let lineStart = 0;
  let position = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20, end: Math.max(0, offset - 1) }) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) {
      line++;
      lineStart = position + i + 1;
    }
    position += chunk.length;
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

/** The same container seen under a second parent, or a member key seen twice: RepeatedKey. */
function refuseRepeats(selector: Selector, parent: unknown, key: JsonKey, parents: Map<Selector, unknown>, memberKeys: Map<Selector, Set<string>>): void {
  const name = selector.segments.join(".");
  const first = parents.get(selector);
  if (first === undefined) parents.set(selector, parent);
  else if (first !== parent) throw new RepeatedKey(name, `given twice at the top level: ${REPEATED_KEY}`);
  if (typeof key !== "string") return;
  const keys = memberKeys.get(selector) ?? new Set<string>();
  memberKeys.set(selector, keys);
  if (keys.has(key)) throw new RepeatedKey(childPath(name, key), REPEATED_KEY);
  keys.add(key);
}

type OnValue = NonNullable<JSONParser["onValue"]>;

/** One pass of @streamparser/json over the file, checking UTF-8 on the way. */
export async function streamPass(file: string, paths: string[], passThrough: () => unknown, onValue: OnValue, hash?: ChunkHash): Promise<void> {
  const parser = new JSONParser({ paths, keepStack: false });
  parser.onValue = onValue;
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = 0;
  let first = true;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      hash?.update(chunk);
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
    throw new InputError(file, undefined, `invalid JSON${at === undefined ? "" : ` at ${await describePosition(file, at)}`}: ${message}`);
  }
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
export function describeSyntaxError(bytes: Uint8Array): string {
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
