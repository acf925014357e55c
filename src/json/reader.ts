/**
 * One JSON reader for every command. Callers name the containers they want streamed with a small
 * JSONPath subset (`$.*`, `$.annotations.*`) and get each element as it is parsed, so no command
 * needs the whole document in memory.
 *
 * Engines:
 * - "split" (the default): the selected containers are cut into batches of elements that
 *   `JSON.parse` reads one at a time (splitter.ts), so no string comes near V8's 512 MiB
 *   limit; 3x faster than a streaming JSON library, and faster than one JSON.parse of the file;
 * - "stream": @streamparser/json, one element at a time, for shapes the splitter does not take;
 *   it also says where a syntax error is;
 * - "parse": the whole file through JSON.parse, only when forced: the oracle the tests compare
 *   the others with (it cannot see a repeated key, which the others refuse).
 * All reject invalid UTF-8, and all surface 1e400 as Infinity for the callers' finiteness checks.
 * The caller may force one (the CLI's `MDETR_JSON_ENGINE=parse|split|stream`, for tests and
 * debugging). Every engine hashes the bytes it reads into the run's InputLog.
 *
 * A read may also keep small top-level values whole (`info`), skip a member of the elements that
 * nobody reads but everybody must validate (LVIS `segmentation`: checked, handed over as null,
 * and with the split engine never parsed), and note where each element lies in the file, for a
 * second pass that copies elements as they are (`readRawElements`, or reads at those offsets).
 */
import type { Stats } from "node:fs";
import { open, stat } from "node:fs/promises";
import { childPath, InputError, UsageError } from "../core/errors.js";
import { hashFor, type ChunkHash, type InputLog } from "../core/inputs.js";
import type { Progress } from "../core/progress.js";
import { parseSelectors, kindOf, RepeatedKey, type ContainerKind, type JsonKey, type JsonVisitor, type Selector } from "./selectors.js";
import { SkippedNonFinite, splitJson, SplitSyntaxError, UnsupportedShape, type RawVisitor } from "./splitter.js";
import { isRecord, nonFiniteNumberPath } from "./validate.js";
import type { ElementDecoder } from "./byte-cursor.js";

export type { ContainerKind, JsonKey, JsonVisitor } from "./selectors.js";
export type { RawVisitor } from "./splitter.js";

export interface JsonReadResult {
  /** Kind of the container each selector iterated over (`$` for `$.*`, `$.images` for `$.images.*`). */
  containers: Map<string, ContainerKind>;
  engine: JsonEngine;
  /** The top-level values asked for with `keep` (absent keys are missing from the map). */
  values: Map<string, unknown>;
  /**
   * The split engine only, for the containers named in `offsets`: the file offsets of the `[`, of
   * each comma between elements and of the `]` (element k lies between entries k and k + 1; an
   * empty array has two entries and no element).
   */
  offsets: Map<string, Float64Array>;
}

/** What one read asks for besides the elements of its containers. */
export interface JsonReadExtras {
  /** Top-level keys whose whole values are wanted (small ones, like `info`), not streamed. */
  keep?: readonly string[];
  /** A progress bar over the file's bytes, made once its size is known. */
  progress?: (totalBytes: number) => Progress;
  /**
   * Per top-level container (`annotations`), a member of its object elements (`segmentation`)
   * that is checked (valid JSON, finite numbers) but handed to the visitor as null. The split
   * engine does not even parse it, which is most of the time JSON.parse spends on LVIS files.
   */
  skip?: Readonly<Record<string, string>>;
  /** Top-level containers whose elements' file offsets are wanted (see JsonReadResult.offsets). */
  offsets?: readonly string[];
  /**
   * Per selector (`$.*`), a fast path for its elements (byte-cursor.ts) that keeps what it reads
   * itself; the visitor sees only the elements it leaves. It is asked about an object container's
   * members (`key` given) only when `members` names the selector too: a reader that expects a
   * list is never handed the members of an object. The split engine only: the others
   * visit every element, so a reader must do the same with either.
   */
  decode?: Readonly<Record<string, ElementDecoder>>;
  members?: readonly string[];
}

export type JsonEngine = "parse" | "split" | "stream";
export const JSON_ENGINES: readonly JsonEngine[] = ["parse", "split", "stream"];

/** How a run reads JSON; every field is optional and the defaults are what users get. */
export interface JsonReadSettings {
  /** Forces an engine (tests, debugging); by default "split", falling back to "stream". */
  engine?: JsonEngine;
  /** The splitter's batch size in bytes (tests force a few bytes so that batches get cut). */
  batchBytes?: number;
  /** Where each file's size and SHA-256 are recorded. */
  inputs?: InputLog;
  /** Files of at least this many bytes are hashed on a worker thread (default THREADED_HASH_BYTES, 64 MiB). */
  hashThreadBytes?: number;
}

/**
 * The @streamparser/json engine, loaded when a file needs it (a shape the splitter does not take,
 * or an error to locate): most runs never do, and its modules are a good part of a start-up.
 */
const streamEngine = () => import("./stream-engine.js");

/** Fails unless the container a selector iterated over (`$.images`) was an array. */
export function expectArrayContainer(file: string, path: string, kind: ContainerKind | undefined): void {
  if (kind === "array") return;
  const got = kind === "missing" || kind === undefined ? "nothing" : kind === "other" ? "a scalar" : "an object";
  throw new InputError(file, path.replace(/^\$\.?/, "") || "(top level)", `expected an array, got ${got}`);
}

/** The file's stat, or a usage error saying why it cannot be read. */
export async function statInput(file: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(file);
  } catch (error) {
    throw new UsageError(`${file}: cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  if (!info.isFile()) throw new UsageError(`${file}: not a file`);
  if (info.size === 0) throw new InputError(file, undefined, "file is empty, expected JSON");
  return info;
}

/** A hash that also moves a progress bar by the bytes it is fed. */
function withProgress(hash: ChunkHash, progress: Progress | undefined): ChunkHash {
  if (!progress) return hash;
  return {
    update: (chunk) => {
      hash.update(chunk);
      progress.tick(chunk.length);
    },
    reset() {
      hash.reset();
      return this;
    },
    digest: () => hash.digest(),
    close: () => hash.close(),
  };
}

/** Reads `file`, calling each selector's visitor for every element of its container. */
export async function readJson(file: string, select: Record<string, JsonVisitor>, settings: JsonReadSettings = {}, extras: JsonReadExtras = {}): Promise<JsonReadResult> {
  const selectors = parseSelectors(withSkippedMembers(file, select, extras.skip ?? {}));
  const keep = extras.keep ?? [];
  const info = await statInput(file);
  const engine = settings.engine ?? "split";
  const hash = hashFor(info.size, settings.hashThreadBytes);
  const progress = extras.progress?.(info.size);
  const fed = withProgress(hash, progress);
  try {
    let result: JsonReadResult;
    if (engine === "parse") result = await parseWhole(file, selectors, fed, keep);
    else if (engine === "split" && selectors.every((s) => s.segments.length <= 1)) result = await parseSplit(file, selectors, fed, settings.batchBytes, extras);
    else result = { ...(await (await streamEngine()).parseStreaming(file, selectors, fed, keep)), engine: "stream", offsets: new Map() };
    settings.inputs?.record({ path: file, ...(await hash.digest()), reader: result.engine });
    return result;
  } catch (error) {
    if (error instanceof RepeatedKey) throw new InputError(file, error.where || undefined, error.message);
    if (error instanceof SkippedNonFinite) throw new InputError(file, error.where, NON_FINITE);
    throw error;
  } finally {
    progress?.stop();
    await hash.close();
  }
}

const NON_FINITE = "expected a finite number, got a number out of range";

/**
 * The visitors, each first checking and nulling its container's skipped member, so that every
 * engine hands over the same values (the split engine nulls it without parsing it).
 */
function withSkippedMembers(file: string, select: Record<string, JsonVisitor>, skip: Readonly<Record<string, string>>): Record<string, JsonVisitor> {
  const wrapped: Record<string, JsonVisitor> = {};
  for (const [path, visit] of Object.entries(select)) {
    const container = path.replace(/^\$\.?/, "").replace(/\.\*$/, "");
    const member = skip[container];
    wrapped[path] = member === undefined
      ? visit
      : (value, key) => {
          if (isRecord(value) && value[member] !== undefined && value[member] !== null) {
            // (With a member given twice, JSON.parse keeps the last; the split engine checks both.)
            const below = nonFiniteNumberPath(value[member]);
            if (below !== undefined) throw new InputError(file, `${childPath(childPath(container, key), member)}${below}`, NON_FINITE);
            value[member] = null;
          }
          visit(value, key);
        };
  }
  return wrapped;
}

/**
 * A second pass over a file a first pass has read and checked: each element of the named
 * top-level arrays is handed over as its bytes, unparsed, for copying into an output as it is.
 * Returns how many elements each array had (the caller compares them with its first pass).
 */
export async function readRawElements(file: string, select: Record<string, RawVisitor>, settings: Pick<JsonReadSettings, "batchBytes"> = {}, extras: Pick<JsonReadExtras, "progress"> = {}): Promise<Map<string, number>> {
  const info = await statInput(file);
  const counts = new Map<string, number>(Object.keys(select).map((key) => [key, 0]));
  const progress = extras.progress?.(info.size);
  try {
    await splitJson(
      file,
      Object.entries(select).map(([key, raw]) => ({
        rootKey: key,
        visit: () => {},
        raw: (element, index) => {
          counts.set(key, index + 1);
          raw(element, index);
        },
      })),
      settings.batchBytes,
      undefined,
      progress ? (bytes) => progress.tick(bytes) : undefined,
    );
  } catch (error) {
    if (error instanceof RepeatedKey) throw new InputError(file, error.where || undefined, error.message);
    if (error instanceof SplitSyntaxError || error instanceof UnsupportedShape) throw new InputError(file, undefined, `changed since it was first read: ${error.message}`);
    throw error;
  } finally {
    progress?.stop();
  }
  return counts;
}

function keptValues(root: unknown, keep: readonly string[]): Map<string, unknown> {
  const values = new Map<string, unknown>();
  if (root === null || typeof root !== "object" || Array.isArray(root)) return values;
  for (const key of keep) if (Object.hasOwn(root, key)) values.set(key, (root as Record<string, unknown>)[key]);
  return values;
}

async function parseSplit(file: string, selectors: Selector[], hash: ChunkHash, batchBytes: number | undefined, extras: JsonReadExtras): Promise<JsonReadResult> {
  let visits = 0;
  const keep = extras.keep ?? [];
  const counted = selectors.map((s) => {
    const rootKey = s.segments[0];
    const skipMember = rootKey === undefined ? undefined : extras.skip?.[rootKey];
    const decode = extras.decode?.[`${s.container}.*`];
    return {
      rootKey,
      visit: (value: unknown, key: JsonKey) => {
        visits++;
        s.visit(value, key);
      },
      ...(skipMember === undefined ? {} : { skipMember }),
      // What the fast path keeps counts as visited: the library must not read the file again then.
      ...(decode === undefined ? {} : { decode: (bytes: Buffer, start: number, index: number, key: string | undefined) => {
        const end = decode(bytes, start, index, key);
        if (end >= 0) visits++;
        return end;
      }, decodeMembers: (extras.members ?? []).includes(`${s.container}.*`) }),
      offsets: rootKey !== undefined && (extras.offsets ?? []).includes(rootKey),
    };
  });
  try {
    const { kinds, skeleton, offsets } = await splitJson(file, counted, batchBytes, hash);
    return { containers: kinds, engine: "split", values: keptValues(skeleton, keep), offsets };
  } catch (error) {
    if (error instanceof UnsupportedShape) {
      // The splitter stopped early: the library reads (and hashes) the whole file again.
      if (visits === 0) return { ...(await (await streamEngine()).parseStreaming(file, selectors, hash.reset(), keep)), engine: "stream", offsets: new Map() };
      throw new InputError(file, undefined, `cannot stream this file: ${error.message}`);
    }
    if (!(error instanceof SplitSyntaxError)) throw error;
    // The splitter knows the file is broken, not where: let the library find the place.
    await (await streamEngine()).streamPass(file, selectors.map((s) => `${s.container}.*`), () => undefined, () => {});
    throw new InputError(file, undefined, `invalid JSON: ${error.message}`);
  }
}

async function parseWhole(file: string, selectors: Selector[], hash: ChunkHash, keep: readonly string[]): Promise<JsonReadResult> {
  const handle = await open(file, "r");
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  hash.update(bytes);
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
    throw new InputError(file, undefined, (await streamEngine()).describeSyntaxError(bytes));
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
  return { containers, engine: "parse", values: keptValues(root, keep), offsets: new Map() };
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

