/**
 * Reader for ranked box predictions of referring-expression models, in either of the two shapes
 * people have on disk (detected from the top-level JSON value):
 * - a COCO results list `[{image_id, bbox: [x, y, w, h], score}, ...]`, several entries per image;
 * - MDETR's dict `{"<image_id>": {"boxes": [[x1, y1, x2, y2], ...], "scores": [...]}}`.
 * Boxes end up as xyxy in one Float32Array grouped per expression: float32 is what MDETR's
 * evaluator computes in (it turns predictions into torch tensors), and it halves the memory.
 */
import { InputError, childPath } from "../../core/errors.js";
import { Growable } from "../../core/growable.js";
import { ByteCursor, type ElementDecoder } from "../../json/byte-cursor.js";
import { readJson, type JsonReadSettings } from "../../json/reader.js";
import { box4Problem, cocoBoxProblem, describeJsonValue, finiteNumberProblem, integerKeyProblem, integerProblem, isRecord, objectProblem } from "../../json/validate.js";

export type PredictionFormat = "coco-results" | "mdetr-dict";

export interface BoxPredictions {
  format: PredictionFormat;
  /** Per expression: where its boxes start (in boxes, not coordinates) and how many there are. */
  start: Uint32Array;
  count: Uint32Array;
  /** Per expression: 1 when the file has an entry for it (an entry may hold zero boxes). */
  listed: Uint8Array;
  /** [x1, y1, x2, y2] per box, float32. */
  boxes: Float32Array;
  scores: Float32Array;
  /** Entries whose image id is not among the expressions: how many, and the first few ids. */
  unknownImageIds: { count: number; examples: string[] };
}

const EXAMPLES = 5;

/** Image ids by value (ids of both shapes are integers as text), then as text: a total order. */
function compareIds(a: string, b: string): number {
  return Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The EXAMPLES smallest distinct ids: examples that do not depend on the order the entries were
 * met in (the engines visit a dict's members in different orders: JSON.parse puts integer keys
 * first, ascending; the byte-level reader keeps the file's order).
 */
function smallestIds(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort(compareIds).slice(0, EXAMPLES);
}

export async function readBoxPredictions(file: string, indexOfImageId: ReadonlyMap<string, number>, settings: JsonReadSettings = {}): Promise<BoxPredictions> {
  const n = indexOfImageId.size;
  const start = new Uint32Array(n);
  const count = new Uint32Array(n);
  const listed = new Uint8Array(n);
  const boxes = new Growable(Float32Array, 1 << 16);
  const scores = new Growable(Float32Array, 1 << 14);
  const expressionOfBox = new Growable(Uint32Array, 1 << 14);
  const unknown = { count: 0, examples: [] as string[] };
  let format: PredictionFormat | undefined;
  let lastExpression = -1;
  let grouped = true;

  const noteUnknown = (id: string) => {
    unknown.count++;
    if (unknown.examples.length < EXAMPLES || compareIds(id, unknown.examples[EXAMPLES - 1]!) < 0) unknown.examples = smallestIds([...unknown.examples, id]);
  };

  const addBox = (e: number, x1: number, y1: number, x2: number, y2: number, score: number) => {
    boxes.push(x1);
    boxes.push(y1);
    boxes.push(x2);
    boxes.push(y2);
    scores.push(score);
    expressionOfBox.push(e);
  };

  const visitResult = (entry: unknown, index: number) => {
    const at = childPath("", index);
    if (!isRecord(entry)) throw new InputError(file, at, objectProblem(entry) ?? "");
    const imageId = entry["image_id"];
    const idProblem = integerProblem(imageId);
    if (idProblem) throw new InputError(file, `${at}.image_id`, idProblem);
    const bbox = entry["bbox"];
    const boxProblem = cocoBoxProblem(bbox);
    if (boxProblem) throw new InputError(file, `${at}.bbox`, boxProblem);
    const score = entry["score"];
    const scoreProblem = finiteNumberProblem(score);
    if (scoreProblem) throw new InputError(file, `${at}.score`, scoreProblem);
    const [x, y, w, h] = bbox as [number, number, number, number];
    takeResult(imageId as number, x, y, w, h, score as number);
  };

  const takeResult = (imageId: number, x: number, y: number, w: number, h: number, score: number) => {
    const e = indexOfImageId.get(String(imageId));
    if (e === undefined) return noteUnknown(String(imageId));
    if (e !== lastExpression) {
      if (listed[e]) grouped = false;
      else start[e] = scores.length;
      listed[e] = 1;
      lastExpression = e;
    }
    count[e]! += 1;
    // x + w in float64 first, then float32, as the ground truth box is converted in refexp.py.
    addBox(e, x, y, x + w, y + h, score);
  };

  /** A dict entry's expression, its `n` boxes to come next; -1 (noted) for an unknown image id. */
  const openEntry = (imageId: string, n: number): number => {
    const e = indexOfImageId.get(imageId);
    if (e === undefined) {
      noteUnknown(imageId);
      return -1;
    }
    // A repeated key replaces the earlier entry, as JSON.parse and Python's json.load do.
    start[e] = scores.length;
    count[e] = n;
    listed[e] = 1;
    return e;
  };

  const visitDictEntry = (entry: unknown, imageId: string) => {
    const at = childPath("", imageId);
    // Keys are matched as text against the annotations' ids: "768.5" could never match one.
    const keyProblem = integerKeyProblem(imageId);
    if (keyProblem) throw new InputError(file, at, keyProblem);
    if (!isRecord(entry)) throw new InputError(file, at, objectProblem(entry) ?? "");
    const entryBoxes = entry["boxes"];
    const entryScores = entry["scores"];
    if (!Array.isArray(entryBoxes)) throw new InputError(file, `${at}.boxes`, `expected an array of boxes, got ${describeJsonValue(entryBoxes)}`);
    if (!Array.isArray(entryScores)) throw new InputError(file, `${at}.scores`, `expected an array of numbers, got ${describeJsonValue(entryScores)}`);
    if (entryScores.length !== entryBoxes.length) {
      throw new InputError(file, `${at}.scores`, `expected ${entryBoxes.length} scores (one per box), got ${entryScores.length}`);
    }
    const e = openEntry(imageId, entryBoxes.length);
    if (e < 0) return;
    for (let i = 0; i < entryBoxes.length; i++) {
      const box = entryBoxes[i];
      const boxProblem = box4Problem(box);
      if (boxProblem) throw new InputError(file, `${at}.boxes[${i}]`, boxProblem);
      const [x1, y1, x2, y2] = box as [number, number, number, number];
      // Checked in float32, as refexp.py's assertion sees the boxes.
      if (Math.fround(x2) < Math.fround(x1) || Math.fround(y2) < Math.fround(y1)) throw new InputError(file, `${at}.boxes[${i}]`, `expected [x1, y1, x2, y2] with x2 >= x1 and y2 >= y1, got [${x1}, ${y1}, ${x2}, ${y2}]`);
      const score = entryScores[i];
      const scoreProblem = finiteNumberProblem(score);
      if (scoreProblem) throw new InputError(file, `${at}.scores[${i}]`, scoreProblem);
      addBox(e, x1, y1, x2, y2, score as number);
    }
  };

  const takeDictEntry = (imageId: string, entryBoxes: Float64Array, entryScores: Float64Array, n: number) => {
    const e = openEntry(imageId, n);
    if (e < 0) return;
    for (let i = 0; i < n; i++) addBox(e, entryBoxes[4 * i]!, entryBoxes[4 * i + 1]!, entryBoxes[4 * i + 2]!, entryBoxes[4 * i + 3]!, entryScores[i]!);
  };

  const result = await readJson(file, {
    "$.*": (value, key) => {
      if (typeof key === "number") {
        format = "coco-results";
        visitResult(value, key);
      } else {
        format = "mdetr-dict";
        visitDictEntry(value, key);
      }
    },
  }, settings, { decode: { "$.*": predictionDecoder(takeResult, takeDictEntry) }, members: ["$.*"] });
  const root = result.containers.get("$");
  if (root === "array") format = "coco-results";
  else if (root === "object") format = format ?? "mdetr-dict";
  else throw new InputError(file, undefined, `expected a list of COCO results or an object of MDETR predictions, got ${root === "other" ? "a scalar" : "nothing"}`);

  const predictions = { format: format!, start, count, listed, boxes: boxes.view(), scores: scores.view(), unknownImageIds: unknown };
  return grouped ? predictions : groupByExpression(predictions, expressionOfBox.view());
}

const ENTRY_FIELDS = ByteCursor.names(["boxes", "scores"]);
const RESULT_FIELDS = ByteCursor.names(["image_id", "bbox", "score"]);
const BOTH_FIELDS = 0b11;
const ALL_FIELDS = 0b111;

/**
 * The fast path for both shapes, which hands over exactly what the visitor would keep and leaves
 * to it every element it would refuse or read another way (escapes, a key that is not an integer,
 * a box of 3 numbers, a negative width, x2 < x1 in float32, counts that differ):
 * - a COCO result `{"image_id", "bbox", "score"}`, other members skipped;
 * - a member `"<image id>": {"boxes": [[x1, y1, x2, y2], ...], "scores": [...]}` of MDETR's dict.
 */
function predictionDecoder(
  takeResult: (imageId: number, x: number, y: number, w: number, h: number, score: number) => void,
  takeDictEntry: (imageId: string, boxes: Float64Array, scores: Float64Array, n: number) => void,
): ElementDecoder {
  const cursor = new ByteCursor();
  const bbox = new Float64Array(4);
  let imageId = 0;
  let score = 0;
  const readResultField = (field: number): boolean => {
    if (field === 1) return cursor.box(bbox) && bbox[2]! >= 0 && bbox[3]! >= 0;
    if (!cursor.finite()) return false;
    if (field === 0) {
      imageId = cursor.value;
      return Number.isInteger(imageId);
    }
    score = cursor.value;
    return true;
  };
  let boxCount = -1;
  let scoreCount = -1;
  const readEntryField = (field: number): boolean => {
    if (field === 0) boxCount = cursor.boxList();
    else scoreCount = cursor.numberList();
    return (field === 0 ? boxCount : scoreCount) >= 0;
  };
  return (bytes, start, _index, key) => {
    cursor.at(bytes, start);
    if (key === undefined) {
      if (cursor.object(RESULT_FIELDS, readResultField) !== ALL_FIELDS) return -1;
      takeResult(imageId, bbox[0]!, bbox[1]!, bbox[2]!, bbox[3]!, score);
      return cursor.pos;
    }
    if (integerKeyProblem(key)) return -1;
    if (cursor.object(ENTRY_FIELDS, readEntryField) !== BOTH_FIELDS || boxCount !== scoreCount) return -1;
    const boxes = cursor.boxes;
    for (let i = 0; i < boxCount; i++) {
      if (Math.fround(boxes[4 * i + 2]!) < Math.fround(boxes[4 * i]!) || Math.fround(boxes[4 * i + 3]!) < Math.fround(boxes[4 * i + 1]!)) return -1;
    }
    takeDictEntry(key, boxes, cursor.list, boxCount);
    return cursor.pos;
  };
}

/** COCO results may interleave images; a stable counting sort makes each expression's boxes contiguous. */
function groupByExpression(p: BoxPredictions, expressionOfBox: Uint32Array): BoxPredictions {
  const n = p.count.length;
  const start = new Uint32Array(n);
  for (let e = 1; e < n; e++) start[e] = start[e - 1]! + p.count[e - 1]!;
  const next = start.slice();
  const boxes = new Float32Array(p.boxes.length);
  const scores = new Float32Array(p.scores.length);
  for (let b = 0; b < expressionOfBox.length; b++) {
    const e = expressionOfBox[b]!;
    const to = next[e]!++;
    scores[to] = p.scores[b]!;
    boxes.set(p.boxes.subarray(4 * b, 4 * b + 4), 4 * to);
  }
  return { ...p, start, boxes, scores };
}

/**
 * Several files' predictions (the shards of one run) as one: each expression's boxes from the file
 * that lists it. The caller has checked that no expression is listed by two files.
 */
export function mergeBoxPredictions(parts: readonly BoxPredictions[]): Omit<BoxPredictions, "format"> & { format: PredictionFormat | "mixed" } {
  if (parts.length === 1) return parts[0]!;
  const n = parts[0]!.count.length;
  const owner = new Int32Array(n).fill(-1);
  parts.forEach((p, f) => p.listed.forEach((here, e) => here && (owner[e] = f)));
  const start = new Uint32Array(n);
  const count = new Uint32Array(n);
  const listed = new Uint8Array(n);
  let total = 0;
  for (let e = 0; e < n; e++) {
    const f = owner[e]!;
    start[e] = total;
    if (f < 0) continue;
    listed[e] = 1;
    count[e] = parts[f]!.count[e]!;
    total += count[e]!;
  }
  const boxes = new Float32Array(4 * total);
  const scores = new Float32Array(total);
  for (let e = 0; e < n; e++) {
    const f = owner[e]!;
    if (f < 0) continue;
    const p = parts[f]!;
    const from = p.start[e]!;
    scores.set(p.scores.subarray(from, from + count[e]!), start[e]!);
    boxes.set(p.boxes.subarray(4 * from, 4 * (from + count[e]!)), 4 * start[e]!);
  }
  const formats = new Set(parts.map((p) => p.format));
  return {
    format: formats.size === 1 ? parts[0]!.format : "mixed",
    start,
    count,
    listed,
    boxes,
    scores,
    unknownImageIds: { count: parts.reduce((m, p) => m + p.unknownImageIds.count, 0), examples: smallestIds(parts.flatMap((p) => p.unknownImageIds.examples)) },
  };
}
