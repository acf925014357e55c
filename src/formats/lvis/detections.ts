/**
 * A COCO results list of box detections `[{image_id, category_id, bbox: [x, y, w, h], score}]`,
 * streamed into typed arrays with ids resolved against the ground truth. A 10 M detection file
 * takes about 48 bytes per detection.
 */
import { InputError, childPath } from "../../core/errors.js";
import { Growable } from "../../core/growable.js";
import { readJson, statInput, type JsonReadSettings } from "../../json/reader.js";
import { ByteCursor, type ElementDecoder } from "../../json/byte-cursor.js";
import type { LvisGroundTruth } from "./annotations.js";
import { cocoBoxProblem, finiteNumberProblem, integerProblem, isRecord, objectProblem } from "../../json/validate.js";

/** What every LVIS results reader keeps: per detection, in file order, image and category indices and score. */
export interface DetectionIds {
  image: Int32Array;
  category: Int32Array;
  score: Float64Array;
  /** Detections whose image is not in the ground truth (kept out under --ignore-unknown-images). */
  unknownImages: { count: number; examples: number[] };
}

export interface Detections extends DetectionIds {
  /** [x, y, w, h] per detection. */
  bbox: Float64Array;
}

const LIST_EXPECTED = "expected a list of detections [{image_id, category_id, bbox, score}, ...]";

/** A detection's object with the fields every LVIS detection has: integer ids, a finite score. */
export function checkDetectionRecord(file: string, at: string, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new InputError(file, at, objectProblem(value) ?? "");
  for (const field of ["image_id", "category_id", "score"] as const) {
    const problem = field === "score" ? finiteNumberProblem(value[field]) : integerProblem(value[field]);
    if (problem) throw new InputError(file, `${at}.${field}`, problem);
  }
  return value;
}

/**
 * A checked detection's image and category as indices; undefined for a detection of an image the
 * ground truth lacks (counted in `unknownImages`), which is an error unless `ignoreUnknownImages`.
 */
export function resolveDetection(
  file: string,
  at: string,
  value: Record<string, unknown>,
  gt: Pick<LvisGroundTruth, "imageIndex" | "categoryIndex">,
  ignoreUnknownImages: boolean,
  unknownImages: { count: number; examples: number[] },
): { image: number; category: number; score: number } | undefined {
  const imageId = value["image_id"] as number;
  const image = gt.imageIndex.get(imageId);
  if (image === undefined) {
    if (!ignoreUnknownImages) throw new InputError(file, `${at}.image_id`, `no image with id ${imageId} in the ground truth (--ignore-unknown-images skips such detections)`);
    unknownImages.count++;
    if (unknownImages.examples.length < 5) unknownImages.examples.push(imageId);
    return undefined;
  }
  const category = gt.categoryIndex.get(value["category_id"] as number);
  if (category === undefined) throw new InputError(file, `${at}.category_id`, `no category with id ${value["category_id"]} in the ground truth`);
  return { image, category, score: value["score"] as number };
}

export async function readDetections(file: string, gt: Pick<LvisGroundTruth, "imageIndex" | "categoryIndex">, ignoreUnknownImages: boolean, settings: JsonReadSettings = {}): Promise<Detections> {
  // Shared memory: evaluation threads read the columns without a copy.
  const image = new Growable(Int32Array, 1 << 13, true);
  const category = new Growable(Int32Array, 1 << 13, true);
  const bbox = new Growable(Float64Array, 1 << 15, true);
  const score = new Growable(Float64Array, 1 << 13, true);
  const unknownImages = { count: 0, examples: [] as number[] };
  const decode = detectionDecoder(gt, { image, category, bbox, score }, (await statInput(file)).size);
  const result = await readJson(file, {
    "$.*": (value, key) => {
      if (typeof key === "string") throw new InputError(file, undefined, LIST_EXPECTED);
      const at = childPath("", key);
      const record = checkDetectionRecord(file, at, value);
      const boxProblem = cocoBoxProblem(record["bbox"]);
      if (boxProblem) throw new InputError(file, `${at}.bbox`, boxProblem);
      const ids = resolveDetection(file, at, record, gt, ignoreUnknownImages, unknownImages);
      if (!ids) return;
      image.push(ids.image);
      category.push(ids.category);
      for (const v of record["bbox"] as number[]) bbox.push(v);
      score.push(ids.score);
    },
  }, settings, { decode: { "$.*": decode } });
  if (result.containers.get("$") !== "array") throw new InputError(file, undefined, LIST_EXPECTED);
  return { image: image.view(), category: category.view(), bbox: bbox.view(), score: score.view(), unknownImages };
}

/** Detections whose length sizes the columns (see detectionDecoder). */
const ESTIMATE_AFTER = 4096;
const FIELDS = ByteCursor.names(["image_id", "category_id", "bbox", "score"]);
const ALL_FIELDS = 0b1111;

/**
 * The fast path for a detection `{"image_id", "category_id", "bbox", "score"}` in any order, other
 * members skipped: it keeps exactly what the visitor would keep, and leaves to it every detection
 * the visitor would refuse or count (a fractional id, a negative width, an unknown image).
 */
function detectionDecoder(
  gt: Pick<LvisGroundTruth, "imageIndex" | "categoryIndex">,
  out: { image: Growable<Int32Array>; category: Growable<Int32Array>; bbox: Growable<Float64Array>; score: Growable<Float64Array> },
  fileBytes: number,
): ElementDecoder {
  // The columns are sized once from the first detections' length: doubling would leave a chain
  // of outgrown arrays (shared memory, freed late) about as big as the columns.
  let sampledBytes = 0;
  let sampled = 0;
  const cursor = new ByteCursor();
  const box = new Float64Array(4);
  // Results come image after image, so the last image's index is nearly always the next one's.
  let lastImageId = NaN;
  let lastImage = -1;
  const categoryOf = denseIndex(gt.categoryIndex);
  let imageId = 0;
  let categoryId = 0;
  let score = 0;
  const readField = (field: number): boolean => {
    if (field === 2) return cursor.box(box);
    if (!cursor.finite()) return false;
    if (field === 0) imageId = cursor.value;
    else if (field === 1) categoryId = cursor.value;
    else score = cursor.value;
    return true;
  };
  return (bytes, start) => {
    cursor.at(bytes, start);
    const seen = cursor.object(FIELDS, readField);
    if (seen !== ALL_FIELDS || !Number.isInteger(imageId) || !Number.isInteger(categoryId) || box[2]! < 0 || box[3]! < 0) return -1;
    if (imageId !== lastImageId) {
      const found = gt.imageIndex.get(imageId);
      if (found === undefined) return -1;
      lastImageId = imageId;
      lastImage = found;
    }
    const image = lastImage;
    const category = categoryId >= 0 && categoryId < categoryOf.length ? categoryOf[categoryId]! : -1;
    if (category < 0) return -1;
    out.image.push(image);
    out.category.push(category);
    for (let k = 0; k < 4; k++) out.bbox.push(box[k]!);
    out.score.push(score);
    if (sampled < ESTIMATE_AFTER) {
      sampledBytes += cursor.pos - start + 1;
      if (++sampled === ESTIMATE_AFTER) {
        const expected = Math.ceil((1.1 * fileBytes * sampled) / sampledBytes);
        out.image.reserve(expected);
        out.category.reserve(expected);
        out.bbox.reserve(4 * expected);
        out.score.reserve(expected);
      }
    }
    return cursor.pos;
  };
}

/** Ids -> indices as a table (-1: no such id) when the ids are small, as LVIS's 1..1203 are; else empty. */
function denseIndex(index: ReadonlyMap<number, number>): Int32Array {
  let max = -1;
  for (const id of index.keys()) max = Math.max(max, id);
  if (max >= 1 << 20) return new Int32Array(0);
  const table = new Int32Array(max + 1).fill(-1);
  for (const [id, i] of index) if (id >= 0) table[id] = i;
  return table;
}
